build2/firstboot/system-plan.o: firstboot/system-plan.c common/cleanup.h \
 common/macro.h firstboot/system-plan.h common/kickstart.h common/diag.h \
 common/profile.h common/yaml-tree.h common/util.h
common/cleanup.h:
common/macro.h:
firstboot/system-plan.h:
common/kickstart.h:
common/diag.h:
common/profile.h:
common/yaml-tree.h:
common/util.h:
