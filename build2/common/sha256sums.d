build2/common/sha256sums.o: common/sha256sums.c common/cleanup.h \
 common/macro.h common/sha256sums.h common/diag.h common/util.h
common/cleanup.h:
common/macro.h:
common/sha256sums.h:
common/diag.h:
common/util.h:
