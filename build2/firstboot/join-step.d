build2/firstboot/join-step.o: firstboot/join-step.c common/cleanup.h \
 common/macro.h firstboot/cmd.h firstboot/creds-place.h common/fileio.h \
 firstboot/identity.h common/kickstart.h common/diag.h common/profile.h \
 common/yaml-tree.h firstboot/join.h firstboot/journal.h common/json.h \
 common/util.h common/log.h firstboot/run-steps.h firstboot/run.h \
 firstboot/status.h firstboot/secret.h firstboot/options.h
common/cleanup.h:
common/macro.h:
firstboot/cmd.h:
firstboot/creds-place.h:
common/fileio.h:
firstboot/identity.h:
common/kickstart.h:
common/diag.h:
common/profile.h:
common/yaml-tree.h:
firstboot/join.h:
firstboot/journal.h:
common/json.h:
common/util.h:
common/log.h:
firstboot/run-steps.h:
firstboot/run.h:
firstboot/status.h:
firstboot/secret.h:
firstboot/options.h:
