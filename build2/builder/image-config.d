build2/builder/image-config.o: builder/image-config.c common/cleanup.h \
 common/macro.h common/fileio.h builder/image-config.h builder/image.h \
 builder/build.h common/profile.h common/diag.h common/yaml-tree.h \
 common/log.h common/util.h
common/cleanup.h:
common/macro.h:
common/fileio.h:
builder/image-config.h:
builder/image.h:
builder/build.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
common/log.h:
common/util.h:
