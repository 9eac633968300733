build2/firstboot/netplan.o: firstboot/netplan.c common/cleanup.h \
 common/macro.h common/escape.h common/util.h common/fileio.h \
 firstboot/netplan.h firstboot/net-plan.h common/diag.h common/json.h \
 firstboot/nic.h common/profile.h common/yaml-tree.h common/parse.h \
 common/process.h
common/cleanup.h:
common/macro.h:
common/escape.h:
common/util.h:
common/fileio.h:
firstboot/netplan.h:
firstboot/net-plan.h:
common/diag.h:
common/json.h:
firstboot/nic.h:
common/profile.h:
common/yaml-tree.h:
common/parse.h:
common/process.h:
