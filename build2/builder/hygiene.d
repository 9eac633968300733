build2/builder/hygiene.o: builder/hygiene.c common/cleanup.h \
 common/macro.h common/fileio.h builder/hygiene.h common/log.h \
 builder/spawn-run.h common/util.h
common/cleanup.h:
common/macro.h:
common/fileio.h:
builder/hygiene.h:
common/log.h:
builder/spawn-run.h:
common/util.h:
