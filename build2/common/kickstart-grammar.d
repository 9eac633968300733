build2/common/kickstart-grammar.o: common/kickstart-grammar.c \
 common/kickstart-internal.h common/kickstart.h common/diag.h \
 common/macro.h common/profile.h common/yaml-tree.h common/util.h
common/kickstart-internal.h:
common/kickstart.h:
common/diag.h:
common/macro.h:
common/profile.h:
common/yaml-tree.h:
common/util.h:
