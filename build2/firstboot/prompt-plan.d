build2/firstboot/prompt-plan.o: firstboot/prompt-plan.c common/cleanup.h \
 common/macro.h common/parse.h firstboot/prompt-plan.h common/password.h \
 firstboot/answer-set.h common/json.h common/util.h common/kickstart.h \
 common/diag.h common/profile.h common/yaml-tree.h firstboot/nic.h
common/cleanup.h:
common/macro.h:
common/parse.h:
firstboot/prompt-plan.h:
common/password.h:
firstboot/answer-set.h:
common/json.h:
common/util.h:
common/kickstart.h:
common/diag.h:
common/profile.h:
common/yaml-tree.h:
firstboot/nic.h:
