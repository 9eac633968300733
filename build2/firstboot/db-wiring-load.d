build2/firstboot/db-wiring-load.o: firstboot/db-wiring-load.c \
 common/cleanup.h common/macro.h firstboot/creds-place.h common/creds.h \
 common/diag.h firstboot/db-wiring.h common/wiring.h common/profile.h \
 common/yaml-tree.h common/fileio.h firstboot/render.h firstboot/secret.h \
 common/util.h
common/cleanup.h:
common/macro.h:
firstboot/creds-place.h:
common/creds.h:
common/diag.h:
firstboot/db-wiring.h:
common/wiring.h:
common/profile.h:
common/yaml-tree.h:
common/fileio.h:
firstboot/render.h:
firstboot/secret.h:
common/util.h:
