build2/common/creds.o: common/creds.c common/creds.h common/diag.h \
 common/macro.h common/parse.h common/util.h
common/creds.h:
common/diag.h:
common/macro.h:
common/parse.h:
common/util.h:
