build2/builder/layer.o: builder/layer.c common/cleanup.h common/macro.h \
 common/fileio.h builder/layer-tree.h builder/build.h common/profile.h \
 common/diag.h common/yaml-tree.h builder/rootfs.h builder/layer.h \
 builder/outputs.h builder/image.h common/log.h builder/progress.h \
 builder/spawn-run.h builder/unpack.h common/util.h \
 builder/vendor-stage.h
common/cleanup.h:
common/macro.h:
common/fileio.h:
builder/layer-tree.h:
builder/build.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
builder/rootfs.h:
builder/layer.h:
builder/outputs.h:
builder/image.h:
common/log.h:
builder/progress.h:
builder/spawn-run.h:
builder/unpack.h:
common/util.h:
builder/vendor-stage.h:
