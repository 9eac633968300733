build2/common/fileio.o: common/fileio.c common/cleanup.h common/macro.h \
 common/fileio.h common/util.h
common/cleanup.h:
common/macro.h:
common/fileio.h:
common/util.h:
