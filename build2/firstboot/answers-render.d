build2/firstboot/answers-render.o: firstboot/answers-render.c \
 firstboot/answers-render.h firstboot/answer-set.h common/json.h \
 common/util.h common/macro.h common/kickstart.h common/diag.h \
 common/profile.h common/yaml-tree.h common/cleanup.h \
 firstboot/net-plan.h firstboot/nic.h common/parse.h
firstboot/answers-render.h:
firstboot/answer-set.h:
common/json.h:
common/util.h:
common/macro.h:
common/kickstart.h:
common/diag.h:
common/profile.h:
common/yaml-tree.h:
common/cleanup.h:
firstboot/net-plan.h:
firstboot/nic.h:
common/parse.h:
