build2/common/connect.o: common/connect.c common/cleanup.h common/macro.h \
 common/connect.h
common/cleanup.h:
common/macro.h:
common/connect.h:
