build2/firstboot/net-main.o: firstboot/net-main.c common/cleanup.h \
 common/macro.h common/fileio.h common/log.h common/kickstart.h \
 common/diag.h common/profile.h common/yaml-tree.h \
 firstboot/net-answers.h firstboot/net-plan.h common/json.h common/util.h \
 firstboot/nic.h firstboot/net-apply.h firstboot/net-main.h \
 firstboot/netplan.h firstboot/run-steps.h firstboot/run.h \
 firstboot/status.h firstboot/secret.h firstboot/options.h
common/cleanup.h:
common/macro.h:
common/fileio.h:
common/log.h:
common/kickstart.h:
common/diag.h:
common/profile.h:
common/yaml-tree.h:
firstboot/net-answers.h:
firstboot/net-plan.h:
common/json.h:
common/util.h:
firstboot/nic.h:
firstboot/net-apply.h:
firstboot/net-main.h:
firstboot/netplan.h:
firstboot/run-steps.h:
firstboot/run.h:
firstboot/status.h:
firstboot/secret.h:
firstboot/options.h:
