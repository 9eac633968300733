build2/builder/elf-deps.o: builder/elf-deps.c common/cleanup.h \
 common/macro.h builder/elf-deps.h common/util.h
common/cleanup.h:
common/macro.h:
builder/elf-deps.h:
common/util.h:
