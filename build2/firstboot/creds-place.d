build2/firstboot/creds-place.o: firstboot/creds-place.c common/cleanup.h \
 common/macro.h firstboot/creds-place.h common/creds.h common/diag.h \
 common/fileio.h common/http.h common/kcmdline.h common/log.h \
 common/util.h
common/cleanup.h:
common/macro.h:
firstboot/creds-place.h:
common/creds.h:
common/diag.h:
common/fileio.h:
common/http.h:
common/kcmdline.h:
common/log.h:
common/util.h:
