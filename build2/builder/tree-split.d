build2/builder/tree-split.o: builder/tree-split.c common/cleanup.h \
 common/macro.h common/log.h builder/tree-split.h builder/image.h \
 builder/build.h common/profile.h common/diag.h common/yaml-tree.h \
 common/util.h
common/cleanup.h:
common/macro.h:
common/log.h:
builder/tree-split.h:
builder/image.h:
builder/build.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
common/util.h:
