build2/common/profile.o: common/profile.c common/cleanup.h common/macro.h \
 common/parse.h common/profile.h common/diag.h common/yaml-tree.h \
 common/util.h common/vendor.h
common/cleanup.h:
common/macro.h:
common/parse.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
common/util.h:
common/vendor.h:
