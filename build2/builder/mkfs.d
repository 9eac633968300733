build2/builder/mkfs.o: builder/mkfs.c common/cleanup.h common/macro.h \
 builder/exec-tool.h builder/ext4-times.h builder/image-plan.h \
 common/diag.h builder/image.h builder/build.h common/profile.h \
 common/yaml-tree.h common/log.h builder/mkfs.h common/util.h
common/cleanup.h:
common/macro.h:
builder/exec-tool.h:
builder/ext4-times.h:
builder/image-plan.h:
common/diag.h:
builder/image.h:
builder/build.h:
common/profile.h:
common/yaml-tree.h:
common/log.h:
builder/mkfs.h:
common/util.h:
