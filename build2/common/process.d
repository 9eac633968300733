build2/common/process.o: common/process.c common/cleanup.h common/macro.h \
 common/process.h common/util.h
common/cleanup.h:
common/macro.h:
common/process.h:
common/util.h:
