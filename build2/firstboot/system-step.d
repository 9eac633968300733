build2/firstboot/system-step.o: firstboot/system-step.c common/cleanup.h \
 common/macro.h firstboot/cmd.h common/fileio.h common/log.h \
 firstboot/run-steps.h firstboot/run.h common/kickstart.h common/diag.h \
 common/profile.h common/yaml-tree.h firstboot/status.h \
 firstboot/secret.h firstboot/options.h firstboot/shadow.h \
 firstboot/system-plan.h common/util.h
common/cleanup.h:
common/macro.h:
firstboot/cmd.h:
common/fileio.h:
common/log.h:
firstboot/run-steps.h:
firstboot/run.h:
common/kickstart.h:
common/diag.h:
common/profile.h:
common/yaml-tree.h:
firstboot/status.h:
firstboot/secret.h:
firstboot/options.h:
firstboot/shadow.h:
firstboot/system-plan.h:
common/util.h:
