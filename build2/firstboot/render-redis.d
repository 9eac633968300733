build2/firstboot/render-redis.o: firstboot/render-redis.c common/escape.h \
 common/util.h common/macro.h firstboot/render.h common/profile.h \
 common/diag.h common/yaml-tree.h
common/escape.h:
common/util.h:
common/macro.h:
firstboot/render.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
