build2/firstboot/storage-answers.o: firstboot/storage-answers.c \
 common/cleanup.h common/macro.h firstboot/storage-answers.h \
 firstboot/disk-plan.h firstboot/disk-probe.h common/profile.h \
 common/diag.h common/yaml-tree.h common/util.h common/kickstart.h
common/cleanup.h:
common/macro.h:
firstboot/storage-answers.h:
firstboot/disk-plan.h:
firstboot/disk-probe.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
common/util.h:
common/kickstart.h:
