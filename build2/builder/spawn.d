build2/builder/spawn.o: builder/spawn.c common/process.h \
 builder/spawn-run.h common/util.h common/macro.h
common/process.h:
builder/spawn-run.h:
common/util.h:
common/macro.h:
