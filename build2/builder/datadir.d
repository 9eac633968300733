build2/builder/datadir.o: builder/datadir.c builder/commands.h \
 common/util.h common/macro.h
builder/commands.h:
common/util.h:
common/macro.h:
