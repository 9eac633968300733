build2/builder/ext4-times.o: builder/ext4-times.c common/cleanup.h \
 common/macro.h builder/exec-tool.h builder/ext4-times.h common/log.h \
 common/parse.h builder/spawn-run.h common/util.h
common/cleanup.h:
common/macro.h:
builder/exec-tool.h:
builder/ext4-times.h:
common/log.h:
common/parse.h:
builder/spawn-run.h:
common/util.h:
