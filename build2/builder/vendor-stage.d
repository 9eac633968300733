build2/builder/vendor-stage.o: builder/vendor-stage.c common/cleanup.h \
 common/macro.h common/fileio.h common/http.h common/log.h \
 builder/progress.h builder/spawn-run.h common/util.h builder/layer.h \
 builder/build.h common/profile.h common/diag.h common/yaml-tree.h \
 builder/outputs.h builder/image.h common/vendor.h builder/vendor-stage.h
common/cleanup.h:
common/macro.h:
common/fileio.h:
common/http.h:
common/log.h:
builder/progress.h:
builder/spawn-run.h:
common/util.h:
builder/layer.h:
builder/build.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
builder/outputs.h:
builder/image.h:
common/vendor.h:
builder/vendor-stage.h:
