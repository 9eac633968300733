build2/common/kickstart-site.o: common/kickstart-site.c common/cleanup.h \
 common/macro.h common/kickstart.h common/diag.h common/profile.h \
 common/yaml-tree.h common/parse.h common/util.h
common/cleanup.h:
common/macro.h:
common/kickstart.h:
common/diag.h:
common/profile.h:
common/yaml-tree.h:
common/parse.h:
common/util.h:
