build2/firstboot/secret.o: firstboot/secret.c common/cleanup.h \
 common/macro.h firstboot/secret.h
common/cleanup.h:
common/macro.h:
firstboot/secret.h:
