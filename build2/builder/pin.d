build2/builder/pin.o: builder/pin.c common/cleanup.h common/macro.h \
 common/diag.h common/log.h builder/pin.h builder/outputs.h \
 builder/build.h common/profile.h common/yaml-tree.h builder/image.h \
 common/util.h
common/cleanup.h:
common/macro.h:
common/diag.h:
common/log.h:
builder/pin.h:
builder/outputs.h:
builder/build.h:
common/profile.h:
common/yaml-tree.h:
builder/image.h:
common/util.h:
