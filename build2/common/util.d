build2/common/util.o: common/util.c common/util.h common/macro.h
common/util.h:
common/macro.h:
