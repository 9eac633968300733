build2/builder/outputs.o: builder/outputs.c common/cleanup.h \
 common/macro.h common/fileio.h common/json.h common/util.h \
 common/lib-cleanup.h common/log.h common/parse.h builder/outputs.h \
 builder/build.h common/profile.h common/diag.h common/yaml-tree.h \
 builder/image.h common/vendor.h builder/progress.h builder/spawn-run.h
common/cleanup.h:
common/macro.h:
common/fileio.h:
common/json.h:
common/util.h:
common/lib-cleanup.h:
common/log.h:
common/parse.h:
builder/outputs.h:
builder/build.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
builder/image.h:
common/vendor.h:
builder/progress.h:
builder/spawn-run.h:
