build2/firstboot/nic.o: firstboot/nic.c common/cleanup.h common/macro.h \
 common/fileio.h firstboot/nic.h common/parse.h common/util.h
common/cleanup.h:
common/macro.h:
common/fileio.h:
firstboot/nic.h:
common/parse.h:
common/util.h:
