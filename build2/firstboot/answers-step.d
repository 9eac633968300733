build2/firstboot/answers-step.o: firstboot/answers-step.c \
 firstboot/answer-set.h common/json.h common/util.h common/macro.h \
 common/kickstart.h common/diag.h common/profile.h common/yaml-tree.h \
 firstboot/answers-render.h firstboot/answers.h common/cleanup.h \
 firstboot/creds-place.h common/creds.h common/fileio.h common/kcmdline.h \
 common/log.h firstboot/net-apply.h firstboot/net-plan.h firstboot/nic.h \
 firstboot/prompt-plan.h common/password.h firstboot/prompt.h \
 firstboot/run-steps.h firstboot/run.h firstboot/status.h \
 firstboot/secret.h firstboot/options.h firstboot/shadow.h
firstboot/answer-set.h:
common/json.h:
common/util.h:
common/macro.h:
common/kickstart.h:
common/diag.h:
common/profile.h:
common/yaml-tree.h:
firstboot/answers-render.h:
firstboot/answers.h:
common/cleanup.h:
firstboot/creds-place.h:
common/creds.h:
common/fileio.h:
common/kcmdline.h:
common/log.h:
firstboot/net-apply.h:
firstboot/net-plan.h:
firstboot/nic.h:
firstboot/prompt-plan.h:
common/password.h:
firstboot/prompt.h:
firstboot/run-steps.h:
firstboot/run.h:
firstboot/status.h:
firstboot/secret.h:
firstboot/options.h:
firstboot/shadow.h:
