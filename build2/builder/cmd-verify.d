build2/builder/cmd-verify.o: builder/cmd-verify.c common/cleanup.h \
 common/macro.h builder/commands.h common/ed25519.h common/log.h \
 common/util.h builder/verify.h common/signed-sums.h common/diag.h
common/cleanup.h:
common/macro.h:
builder/commands.h:
common/ed25519.h:
common/log.h:
common/util.h:
builder/verify.h:
common/signed-sums.h:
common/diag.h:
