build2/firstboot/image-identity.o: firstboot/image-identity.c \
 common/cleanup.h common/macro.h firstboot/image-identity.h common/diag.h \
 common/parse.h common/util.h common/yaml-tree.h
common/cleanup.h:
common/macro.h:
firstboot/image-identity.h:
common/diag.h:
common/parse.h:
common/util.h:
common/yaml-tree.h:
