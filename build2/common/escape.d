build2/common/escape.o: common/escape.c common/escape.h common/util.h \
 common/macro.h
common/escape.h:
common/util.h:
common/macro.h:
