build2/builder/media.o: builder/media.c builder/bootloader.h \
 builder/image.h builder/build.h common/profile.h common/diag.h \
 common/macro.h common/yaml-tree.h common/cleanup.h common/ed25519.h \
 common/escape.h common/util.h builder/exec-tool.h common/fileio.h \
 common/json.h common/log.h builder/media.h builder/installer.h \
 builder/outputs.h builder/progress.h builder/spawn-run.h \
 builder/template.h
builder/bootloader.h:
builder/image.h:
builder/build.h:
common/profile.h:
common/diag.h:
common/macro.h:
common/yaml-tree.h:
common/cleanup.h:
common/ed25519.h:
common/escape.h:
common/util.h:
builder/exec-tool.h:
common/fileio.h:
common/json.h:
common/log.h:
builder/media.h:
builder/installer.h:
builder/outputs.h:
builder/progress.h:
builder/spawn-run.h:
builder/template.h:
