build2/common/signed-sums.o: common/signed-sums.c common/cleanup.h \
 common/macro.h common/ed25519.h common/fileio.h common/lib-cleanup.h \
 common/sha256sums.h common/diag.h common/signed-sums.h common/util.h
common/cleanup.h:
common/macro.h:
common/ed25519.h:
common/fileio.h:
common/lib-cleanup.h:
common/sha256sums.h:
common/diag.h:
common/signed-sums.h:
common/util.h:
