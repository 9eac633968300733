build2/firstboot/role-profile.o: firstboot/role-profile.c \
 common/cleanup.h common/macro.h common/diag.h common/log.h \
 firstboot/role-profile.h common/profile.h common/yaml-tree.h
common/cleanup.h:
common/macro.h:
common/diag.h:
common/log.h:
firstboot/role-profile.h:
common/profile.h:
common/yaml-tree.h:
