build2/builder/image.o: builder/image.c builder/bootloader.h \
 builder/image.h builder/build.h common/profile.h common/diag.h \
 common/macro.h common/yaml-tree.h common/cleanup.h common/fileio.h \
 builder/gpt-write.h common/gpt.h builder/image-config.h \
 builder/image-plan.h builder/layer.h builder/outputs.h common/log.h \
 builder/media.h builder/installer.h builder/mkfs.h common/parse.h \
 builder/tree-split.h common/util.h
builder/bootloader.h:
builder/image.h:
builder/build.h:
common/profile.h:
common/diag.h:
common/macro.h:
common/yaml-tree.h:
common/cleanup.h:
common/fileio.h:
builder/gpt-write.h:
common/gpt.h:
builder/image-config.h:
builder/image-plan.h:
builder/layer.h:
builder/outputs.h:
common/log.h:
builder/media.h:
builder/installer.h:
builder/mkfs.h:
common/parse.h:
builder/tree-split.h:
common/util.h:
