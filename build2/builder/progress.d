build2/builder/progress.o: builder/progress.c common/cleanup.h \
 common/macro.h common/json.h common/util.h builder/progress.h
common/cleanup.h:
common/macro.h:
common/json.h:
common/util.h:
builder/progress.h:
