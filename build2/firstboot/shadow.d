build2/firstboot/shadow.o: firstboot/shadow.c common/cleanup.h \
 common/macro.h common/fileio.h firstboot/shadow.h common/util.h
common/cleanup.h:
common/macro.h:
common/fileio.h:
firstboot/shadow.h:
common/util.h:
