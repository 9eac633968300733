build2/firstboot/journal.o: firstboot/journal.c common/cleanup.h \
 common/macro.h common/fileio.h firstboot/journal.h common/log.h \
 common/util.h
common/cleanup.h:
common/macro.h:
common/fileio.h:
firstboot/journal.h:
common/log.h:
common/util.h:
