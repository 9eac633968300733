build2/common/gpt.o: common/gpt.c common/cleanup.h common/macro.h \
 common/fileio.h common/gpt.h
common/cleanup.h:
common/macro.h:
common/fileio.h:
common/gpt.h:
