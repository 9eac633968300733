build2/firstboot/status.o: firstboot/status.c common/cleanup.h \
 common/macro.h common/fileio.h common/hmac.h common/http.h common/json.h \
 common/util.h common/log.h firstboot/status.h firstboot/secret.h
common/cleanup.h:
common/macro.h:
common/fileio.h:
common/hmac.h:
common/http.h:
common/json.h:
common/util.h:
common/log.h:
firstboot/status.h:
firstboot/secret.h:
