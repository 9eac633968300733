build2/firstboot/run.o: firstboot/run.c firstboot/answers.h \
 common/cleanup.h common/macro.h common/diag.h common/fileio.h \
 common/log.h firstboot/prompt.h firstboot/answer-set.h common/json.h \
 common/util.h common/kickstart.h common/profile.h common/yaml-tree.h \
 firstboot/prompt-plan.h common/password.h firstboot/nic.h \
 firstboot/run-steps.h firstboot/run.h firstboot/status.h \
 firstboot/secret.h firstboot/options.h firstboot/storage-main.h \
 firstboot/role-profile.h
firstboot/answers.h:
common/cleanup.h:
common/macro.h:
common/diag.h:
common/fileio.h:
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
firstboot/run-steps.h:
firstboot/run.h:
firstboot/status.h:
firstboot/secret.h:
firstboot/options.h:
firstboot/storage-main.h:
firstboot/role-profile.h:
