build2/builder/cmd-keygen.o: builder/cmd-keygen.c builder/commands.h \
 common/ed25519.h common/log.h common/macro.h common/util.h
builder/commands.h:
common/ed25519.h:
common/log.h:
common/macro.h:
common/util.h:
