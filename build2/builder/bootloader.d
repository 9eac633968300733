build2/builder/bootloader.o: builder/bootloader.c builder/bootloader.h \
 builder/image.h builder/build.h common/profile.h common/diag.h \
 common/macro.h common/yaml-tree.h common/cleanup.h builder/exec-tool.h \
 common/fileio.h builder/image-config.h builder/image-plan.h common/log.h \
 builder/mkfs.h builder/spawn-run.h common/util.h
builder/bootloader.h:
builder/image.h:
builder/build.h:
common/profile.h:
common/diag.h:
common/macro.h:
common/yaml-tree.h:
common/cleanup.h:
builder/exec-tool.h:
common/fileio.h:
builder/image-config.h:
builder/image-plan.h:
common/log.h:
builder/mkfs.h:
builder/spawn-run.h:
common/util.h:
