build2/builder/image-plan.o: builder/image-plan.c common/cleanup.h \
 common/macro.h builder/image-plan.h common/diag.h builder/image.h \
 builder/build.h common/profile.h common/yaml-tree.h common/parse.h \
 common/util.h
common/cleanup.h:
common/macro.h:
builder/image-plan.h:
common/diag.h:
builder/image.h:
builder/build.h:
common/profile.h:
common/yaml-tree.h:
common/parse.h:
common/util.h:
