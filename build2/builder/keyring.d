build2/builder/keyring.o: builder/keyring.c common/cleanup.h \
 common/macro.h common/http.h common/fileio.h builder/keyring.h \
 builder/build.h common/profile.h common/diag.h common/yaml-tree.h \
 common/lib-cleanup.h common/log.h builder/mirror.h builder/outputs.h \
 builder/image.h builder/progress.h common/util.h
common/cleanup.h:
common/macro.h:
common/http.h:
common/fileio.h:
builder/keyring.h:
builder/build.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
common/lib-cleanup.h:
common/log.h:
builder/mirror.h:
builder/outputs.h:
builder/image.h:
builder/progress.h:
common/util.h:
