build2/firstboot/db-wiring-main.o: firstboot/db-wiring-main.c \
 common/cleanup.h common/macro.h firstboot/creds-place.h \
 firstboot/db-wiring.h common/wiring.h common/diag.h common/profile.h \
 common/yaml-tree.h common/log.h common/util.h
common/cleanup.h:
common/macro.h:
firstboot/creds-place.h:
firstboot/db-wiring.h:
common/wiring.h:
common/diag.h:
common/profile.h:
common/yaml-tree.h:
common/log.h:
common/util.h:
