build2/firstboot/disk-apply.o: firstboot/disk-apply.c common/cleanup.h \
 common/macro.h firstboot/disk-apply.h firstboot/disk-plan.h \
 firstboot/disk-probe.h common/profile.h common/diag.h common/yaml-tree.h \
 common/util.h firstboot/journal.h firstboot/status.h firstboot/secret.h \
 common/fileio.h common/lib-cleanup.h common/log.h common/process.h
common/cleanup.h:
common/macro.h:
firstboot/disk-apply.h:
firstboot/disk-plan.h:
firstboot/disk-probe.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
common/util.h:
firstboot/journal.h:
firstboot/status.h:
firstboot/secret.h:
common/fileio.h:
common/lib-cleanup.h:
common/log.h:
common/process.h:
