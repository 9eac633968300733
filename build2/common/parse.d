build2/common/parse.o: common/parse.c common/cleanup.h common/macro.h \
 common/parse.h common/util.h
common/cleanup.h:
common/macro.h:
common/parse.h:
common/util.h:
