build2/common/diag.o: common/diag.c common/diag.h common/macro.h \
 common/util.h
common/diag.h:
common/macro.h:
common/util.h:
