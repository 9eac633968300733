build2/firstboot/identity-step.o: firstboot/identity-step.c \
 common/cleanup.h common/macro.h firstboot/identity.h common/kickstart.h \
 common/diag.h common/profile.h common/yaml-tree.h common/json.h \
 common/util.h common/log.h common/parse.h firstboot/run-steps.h \
 firstboot/run.h firstboot/status.h firstboot/secret.h \
 firstboot/options.h
common/cleanup.h:
common/macro.h:
firstboot/identity.h:
common/kickstart.h:
common/diag.h:
common/profile.h:
common/yaml-tree.h:
common/json.h:
common/util.h:
common/log.h:
common/parse.h:
firstboot/run-steps.h:
firstboot/run.h:
firstboot/status.h:
firstboot/secret.h:
firstboot/options.h:
