build2/firstboot/answers-main.o: firstboot/answers-main.c \
 firstboot/answer-set.h common/json.h common/util.h common/macro.h \
 common/kickstart.h common/diag.h common/profile.h common/yaml-tree.h \
 firstboot/answers-main.h firstboot/answers-render.h firstboot/answers.h \
 common/cleanup.h common/fileio.h common/kcmdline.h common/log.h \
 firstboot/net-answers.h firstboot/net-plan.h firstboot/nic.h \
 common/parse.h firstboot/prompt-plan.h common/password.h \
 firstboot/prompt.h
firstboot/answer-set.h:
common/json.h:
common/util.h:
common/macro.h:
common/kickstart.h:
common/diag.h:
common/profile.h:
common/yaml-tree.h:
firstboot/answers-main.h:
firstboot/answers-render.h:
firstboot/answers.h:
common/cleanup.h:
common/fileio.h:
common/kcmdline.h:
common/log.h:
firstboot/net-answers.h:
firstboot/net-plan.h:
firstboot/nic.h:
common/parse.h:
firstboot/prompt-plan.h:
common/password.h:
firstboot/prompt.h:
