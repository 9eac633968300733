build2/builder/cmd-compare.o: builder/cmd-compare.c builder/commands.h \
 common/log.h common/macro.h builder/repro.h common/util.h
builder/commands.h:
common/log.h:
common/macro.h:
builder/repro.h:
common/util.h:
