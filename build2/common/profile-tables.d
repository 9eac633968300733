build2/common/profile-tables.o: common/profile-tables.c common/profile.h \
 common/diag.h common/macro.h common/yaml-tree.h common/util.h
common/profile.h:
common/diag.h:
common/macro.h:
common/yaml-tree.h:
common/util.h:
