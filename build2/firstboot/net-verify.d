build2/firstboot/net-verify.o: firstboot/net-verify.c common/cleanup.h \
 common/macro.h common/fileio.h firstboot/net-apply.h common/json.h \
 common/util.h firstboot/net-plan.h common/diag.h firstboot/nic.h \
 common/profile.h common/yaml-tree.h common/parse.h
common/cleanup.h:
common/macro.h:
common/fileio.h:
firstboot/net-apply.h:
common/json.h:
common/util.h:
firstboot/net-plan.h:
common/diag.h:
firstboot/nic.h:
common/profile.h:
common/yaml-tree.h:
common/parse.h:
