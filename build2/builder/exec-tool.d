build2/builder/exec-tool.o: builder/exec-tool.c common/cleanup.h \
 common/macro.h builder/exec-tool.h common/log.h common/process.h \
 common/util.h
common/cleanup.h:
common/macro.h:
builder/exec-tool.h:
common/log.h:
common/process.h:
common/util.h:
