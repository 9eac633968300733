build2/firstboot/render-apps.o: firstboot/render-apps.c firstboot/apps.h \
 common/profile.h common/diag.h common/macro.h common/yaml-tree.h \
 common/cleanup.h common/util.h
firstboot/apps.h:
common/profile.h:
common/diag.h:
common/macro.h:
common/yaml-tree.h:
common/cleanup.h:
common/util.h:
