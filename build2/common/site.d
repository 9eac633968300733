build2/common/site.o: common/site.c common/cleanup.h common/macro.h \
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
