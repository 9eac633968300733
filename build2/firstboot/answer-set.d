build2/firstboot/answer-set.o: firstboot/answer-set.c \
 firstboot/answer-set.h common/json.h common/util.h common/macro.h \
 common/kickstart.h common/diag.h common/profile.h common/yaml-tree.h \
 common/cleanup.h common/parse.h
firstboot/answer-set.h:
common/json.h:
common/util.h:
common/macro.h:
common/kickstart.h:
common/diag.h:
common/profile.h:
common/yaml-tree.h:
common/cleanup.h:
common/parse.h:
