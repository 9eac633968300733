build2/builder/image-uuid.o: builder/image-uuid.c common/cleanup.h \
 common/macro.h builder/image-plan.h common/diag.h builder/image.h \
 builder/build.h common/profile.h common/yaml-tree.h common/util.h
common/cleanup.h:
common/macro.h:
builder/image-plan.h:
common/diag.h:
builder/image.h:
builder/build.h:
common/profile.h:
common/yaml-tree.h:
common/util.h:
