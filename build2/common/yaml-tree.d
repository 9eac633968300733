build2/common/yaml-tree.o: common/yaml-tree.c common/cleanup.h \
 common/macro.h common/fileio.h common/util.h common/yaml-tree.h \
 common/diag.h
common/cleanup.h:
common/macro.h:
common/fileio.h:
common/util.h:
common/yaml-tree.h:
common/diag.h:
