build2/builder/rootfs.o: builder/rootfs.c common/cleanup.h common/macro.h \
 common/fileio.h builder/keyring.h builder/build.h common/profile.h \
 common/diag.h common/yaml-tree.h builder/layer-tree.h builder/rootfs.h \
 common/log.h builder/mirror.h builder/outputs.h builder/image.h \
 builder/progress.h builder/spawn-run.h common/util.h
common/cleanup.h:
common/macro.h:
common/fileio.h:
builder/keyring.h:
builder/build.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
builder/layer-tree.h:
builder/rootfs.h:
common/log.h:
builder/mirror.h:
builder/outputs.h:
builder/image.h:
builder/progress.h:
builder/spawn-run.h:
common/util.h:
