build2/firstboot/join.o: firstboot/join.c common/cleanup.h common/macro.h \
 common/connect.h firstboot/join.h common/kickstart.h common/diag.h \
 common/profile.h common/yaml-tree.h common/parse.h common/util.h
common/cleanup.h:
common/macro.h:
common/connect.h:
firstboot/join.h:
common/kickstart.h:
common/diag.h:
common/profile.h:
common/yaml-tree.h:
common/parse.h:
common/util.h:
