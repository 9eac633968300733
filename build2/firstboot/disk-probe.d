build2/firstboot/disk-probe.o: firstboot/disk-probe.c common/cleanup.h \
 common/macro.h firstboot/disk-probe.h common/gpt.h common/fileio.h \
 common/lib-cleanup.h common/profile.h common/diag.h common/yaml-tree.h \
 common/util.h
common/cleanup.h:
common/macro.h:
firstboot/disk-probe.h:
common/gpt.h:
common/fileio.h:
common/lib-cleanup.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
common/util.h:
