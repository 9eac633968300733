build2/builder/mirror.o: builder/mirror.c common/cleanup.h common/macro.h \
 common/fileio.h common/http.h common/connect.h builder/mirror.h \
 builder/build.h common/profile.h common/diag.h common/yaml-tree.h \
 common/url.h builder/outputs.h builder/image.h common/util.h
common/cleanup.h:
common/macro.h:
common/fileio.h:
common/http.h:
common/connect.h:
builder/mirror.h:
builder/build.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
common/url.h:
builder/outputs.h:
builder/image.h:
common/util.h:
