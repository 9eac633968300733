build2/builder/template.o: builder/template.c common/cleanup.h \
 common/macro.h builder/template.h common/util.h
common/cleanup.h:
common/macro.h:
builder/template.h:
common/util.h:
