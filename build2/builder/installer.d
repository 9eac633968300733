build2/builder/installer.o: builder/installer.c common/cleanup.h \
 common/macro.h builder/elf-deps.h common/fileio.h builder/image-config.h \
 builder/image.h builder/build.h common/profile.h common/diag.h \
 common/yaml-tree.h builder/initrd-writer.h builder/installer.h \
 builder/kmod-deps.h common/log.h builder/progress.h builder/spawn-run.h \
 common/util.h
common/cleanup.h:
common/macro.h:
builder/elf-deps.h:
common/fileio.h:
builder/image-config.h:
builder/image.h:
builder/build.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
builder/initrd-writer.h:
builder/installer.h:
builder/kmod-deps.h:
common/log.h:
builder/progress.h:
builder/spawn-run.h:
common/util.h:
