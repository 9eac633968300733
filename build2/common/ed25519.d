build2/common/ed25519.o: common/ed25519.c common/cleanup.h common/macro.h \
 common/ed25519.h common/fileio.h common/lib-cleanup.h common/util.h
common/cleanup.h:
common/macro.h:
common/ed25519.h:
common/fileio.h:
common/lib-cleanup.h:
common/util.h:
