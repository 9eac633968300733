build2/firstboot/disk-plan.o: firstboot/disk-plan.c common/cleanup.h \
 common/macro.h firstboot/disk-plan.h firstboot/disk-probe.h \
 common/profile.h common/diag.h common/yaml-tree.h common/util.h \
 common/json.h common/parse.h
common/cleanup.h:
common/macro.h:
firstboot/disk-plan.h:
firstboot/disk-probe.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
common/util.h:
common/json.h:
common/parse.h:
