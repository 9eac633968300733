build2/firstboot/db-wiring.o: firstboot/db-wiring.c common/cleanup.h \
 common/macro.h firstboot/db-wiring.h common/wiring.h common/diag.h \
 common/profile.h common/yaml-tree.h common/parse.h common/util.h
common/cleanup.h:
common/macro.h:
firstboot/db-wiring.h:
common/wiring.h:
common/diag.h:
common/profile.h:
common/yaml-tree.h:
common/parse.h:
common/util.h:
