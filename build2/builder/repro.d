build2/builder/repro.o: builder/repro.c common/cleanup.h common/macro.h \
 common/fileio.h common/gpt.h common/log.h common/parse.h \
 common/process.h builder/progress.h builder/repro.h builder/spawn-run.h \
 common/util.h
common/cleanup.h:
common/macro.h:
common/fileio.h:
common/gpt.h:
common/log.h:
common/parse.h:
common/process.h:
builder/progress.h:
builder/repro.h:
builder/spawn-run.h:
common/util.h:
