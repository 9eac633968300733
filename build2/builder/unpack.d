build2/builder/unpack.o: builder/unpack.c common/cleanup.h common/macro.h \
 common/lib-cleanup.h common/log.h builder/progress.h builder/spawn-run.h \
 builder/unpack.h common/util.h
common/cleanup.h:
common/macro.h:
common/lib-cleanup.h:
common/log.h:
builder/progress.h:
builder/spawn-run.h:
builder/unpack.h:
common/util.h:
