build2/builder/verify.o: builder/verify.c common/cleanup.h common/macro.h \
 common/ed25519.h common/log.h common/util.h builder/verify.h \
 common/signed-sums.h common/diag.h
common/cleanup.h:
common/macro.h:
common/ed25519.h:
common/log.h:
common/util.h:
builder/verify.h:
common/signed-sums.h:
common/diag.h:
