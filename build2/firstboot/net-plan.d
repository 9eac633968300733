build2/firstboot/net-plan.o: firstboot/net-plan.c common/cleanup.h \
 common/macro.h firstboot/net-plan.h common/diag.h common/json.h \
 common/util.h firstboot/nic.h common/profile.h common/yaml-tree.h \
 common/parse.h
common/cleanup.h:
common/macro.h:
firstboot/net-plan.h:
common/diag.h:
common/json.h:
common/util.h:
firstboot/nic.h:
common/profile.h:
common/yaml-tree.h:
common/parse.h:
