build2/firstboot/render-postgresql.o: firstboot/render-postgresql.c \
 common/cleanup.h common/macro.h common/escape.h common/util.h \
 firstboot/render.h common/profile.h common/diag.h common/yaml-tree.h
common/cleanup.h:
common/macro.h:
common/escape.h:
common/util.h:
firstboot/render.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
