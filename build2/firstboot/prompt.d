build2/firstboot/prompt.o: firstboot/prompt.c common/cleanup.h \
 common/macro.h common/fileio.h common/kcmdline.h common/diag.h \
 common/log.h firstboot/prompt.h firstboot/answer-set.h common/json.h \
 common/util.h common/kickstart.h common/profile.h common/yaml-tree.h \
 firstboot/prompt-plan.h common/password.h firstboot/nic.h
common/cleanup.h:
common/macro.h:
common/fileio.h:
common/kcmdline.h:
common/diag.h:
common/log.h:
firstboot/prompt.h:
firstboot/answer-set.h:
common/json.h:
common/util.h:
common/kickstart.h:
common/profile.h:
common/yaml-tree.h:
firstboot/prompt-plan.h:
common/password.h:
firstboot/nic.h:
