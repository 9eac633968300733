build2/common/wiring.o: common/wiring.c common/cleanup.h common/macro.h \
 common/parse.h common/util.h common/wiring.h common/diag.h \
 common/profile.h common/yaml-tree.h
common/cleanup.h:
common/macro.h:
common/parse.h:
common/util.h:
common/wiring.h:
common/diag.h:
common/profile.h:
common/yaml-tree.h:
