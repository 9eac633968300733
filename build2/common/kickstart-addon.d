build2/common/kickstart-addon.o: common/kickstart-addon.c \
 common/cleanup.h common/macro.h common/kickstart-internal.h \
 common/kickstart.h common/diag.h common/profile.h common/yaml-tree.h \
 common/parse.h common/util.h
common/cleanup.h:
common/macro.h:
common/kickstart-internal.h:
common/kickstart.h:
common/diag.h:
common/profile.h:
common/yaml-tree.h:
common/parse.h:
common/util.h:
