build2/builder/layer-tree.o: builder/layer-tree.c common/cleanup.h \
 common/macro.h builder/layer-tree.h builder/build.h common/profile.h \
 common/diag.h common/yaml-tree.h builder/rootfs.h common/log.h \
 builder/progress.h builder/spawn-run.h builder/unpack.h common/util.h
common/cleanup.h:
common/macro.h:
builder/layer-tree.h:
builder/build.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
builder/rootfs.h:
common/log.h:
builder/progress.h:
builder/spawn-run.h:
builder/unpack.h:
common/util.h:
