build2/tests/unit/test-tree-measure.o: tests/unit/test-tree-measure.c \
 builder/build.h common/profile.h common/diag.h common/macro.h \
 common/yaml-tree.h common/cleanup.h builder/mkfs.h builder/image.h \
 common/util.h
builder/build.h:
common/profile.h:
common/diag.h:
common/macro.h:
common/yaml-tree.h:
common/cleanup.h:
builder/mkfs.h:
builder/image.h:
common/util.h:
