build2/firstboot/port-check.o: firstboot/port-check.c common/cleanup.h \
 common/macro.h common/fileio.h firstboot/port-check.h common/profile.h \
 common/diag.h common/yaml-tree.h
common/cleanup.h:
common/macro.h:
common/fileio.h:
firstboot/port-check.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
