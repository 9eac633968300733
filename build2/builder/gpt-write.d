build2/builder/gpt-write.o: builder/gpt-write.c builder/gpt-write.h \
 common/gpt.h builder/image.h builder/build.h common/profile.h \
 common/diag.h common/macro.h common/yaml-tree.h builder/image-plan.h \
 common/lib-cleanup.h common/cleanup.h common/log.h common/util.h
builder/gpt-write.h:
common/gpt.h:
builder/image.h:
builder/build.h:
common/profile.h:
common/diag.h:
common/macro.h:
common/yaml-tree.h:
builder/image-plan.h:
common/lib-cleanup.h:
common/cleanup.h:
common/log.h:
common/util.h:
