build2/firstboot/report-step.o: firstboot/report-step.c common/cleanup.h \
 common/macro.h common/log.h firstboot/run-steps.h firstboot/run.h \
 common/kickstart.h common/diag.h common/profile.h common/yaml-tree.h \
 firstboot/status.h firstboot/secret.h firstboot/options.h common/util.h
common/cleanup.h:
common/macro.h:
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
common/util.h:
