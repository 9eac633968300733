build2/firstboot/net-answers.o: firstboot/net-answers.c common/cleanup.h \
 common/macro.h firstboot/net-answers.h common/diag.h common/kickstart.h \
 common/profile.h common/yaml-tree.h firstboot/net-plan.h common/json.h \
 common/util.h firstboot/nic.h common/parse.h
common/cleanup.h:
common/macro.h:
firstboot/net-answers.h:
common/diag.h:
common/kickstart.h:
common/profile.h:
common/yaml-tree.h:
firstboot/net-plan.h:
common/json.h:
common/util.h:
firstboot/nic.h:
common/parse.h:
