build2/firstboot/services-main.o: firstboot/services-main.c \
 common/cleanup.h common/macro.h firstboot/apps.h common/profile.h \
 common/diag.h common/yaml-tree.h common/kickstart.h common/log.h \
 common/parse.h firstboot/render.h firstboot/run-steps.h firstboot/run.h \
 firstboot/status.h firstboot/secret.h firstboot/options.h \
 firstboot/services-main.h firstboot/services.h common/json.h \
 common/util.h
common/cleanup.h:
common/macro.h:
firstboot/apps.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
common/kickstart.h:
common/log.h:
common/parse.h:
firstboot/render.h:
firstboot/run-steps.h:
firstboot/run.h:
firstboot/status.h:
firstboot/secret.h:
firstboot/options.h:
firstboot/services-main.h:
firstboot/services.h:
common/json.h:
common/util.h:
