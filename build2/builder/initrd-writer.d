build2/builder/initrd-writer.o: builder/initrd-writer.c common/cleanup.h \
 common/macro.h builder/initrd-writer.h common/lib-cleanup.h \
 common/util.h
common/cleanup.h:
common/macro.h:
builder/initrd-writer.h:
common/lib-cleanup.h:
common/util.h:
