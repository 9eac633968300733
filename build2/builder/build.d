build2/builder/build.o: builder/build.c builder/build.h common/profile.h \
 common/diag.h common/macro.h common/yaml-tree.h common/cleanup.h \
 common/fileio.h builder/hygiene.h builder/image.h builder/installer.h \
 builder/layer-tree.h builder/rootfs.h builder/layer.h builder/outputs.h \
 builder/media.h common/log.h builder/mirror.h common/parse.h \
 builder/commands.h common/ed25519.h builder/pin.h builder/progress.h \
 builder/proxmox.h builder/repro.h builder/spawn-run.h common/util.h \
 builder/verify.h common/signed-sums.h builder/validate-ks.h \
 builder/vendor-stage.h
builder/build.h:
common/profile.h:
common/diag.h:
common/macro.h:
common/yaml-tree.h:
common/cleanup.h:
common/fileio.h:
builder/hygiene.h:
builder/image.h:
builder/installer.h:
builder/layer-tree.h:
builder/rootfs.h:
builder/layer.h:
builder/outputs.h:
builder/media.h:
common/log.h:
builder/mirror.h:
common/parse.h:
builder/commands.h:
common/ed25519.h:
builder/pin.h:
builder/progress.h:
builder/proxmox.h:
builder/repro.h:
builder/spawn-run.h:
common/util.h:
builder/verify.h:
common/signed-sums.h:
builder/validate-ks.h:
builder/vendor-stage.h:
