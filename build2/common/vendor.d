build2/common/vendor.o: common/vendor.c common/cleanup.h common/macro.h \
 common/json.h common/util.h common/vendor.h common/profile.h \
 common/diag.h common/yaml-tree.h
common/cleanup.h:
common/macro.h:
common/json.h:
common/util.h:
common/vendor.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
