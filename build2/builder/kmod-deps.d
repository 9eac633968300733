build2/builder/kmod-deps.o: builder/kmod-deps.c common/cleanup.h \
 common/macro.h builder/kmod-deps.h common/log.h common/util.h
common/cleanup.h:
common/macro.h:
builder/kmod-deps.h:
common/log.h:
common/util.h:
