build2/firstboot/services.o: firstboot/services.c firstboot/apps.h \
 common/profile.h common/diag.h common/macro.h common/yaml-tree.h \
 common/cleanup.h common/connect.h firstboot/cmd.h firstboot/db-wiring.h \
 common/wiring.h common/http.h common/vendor.h common/fileio.h \
 common/kickstart.h common/log.h firstboot/port-check.h \
 firstboot/render.h firstboot/services.h common/json.h common/util.h \
 firstboot/status.h firstboot/secret.h
firstboot/apps.h:
common/profile.h:
common/diag.h:
common/macro.h:
common/yaml-tree.h:
common/cleanup.h:
common/connect.h:
firstboot/cmd.h:
firstboot/db-wiring.h:
common/wiring.h:
common/http.h:
common/vendor.h:
common/fileio.h:
common/kickstart.h:
common/log.h:
firstboot/port-check.h:
firstboot/render.h:
firstboot/services.h:
common/json.h:
common/util.h:
firstboot/status.h:
firstboot/secret.h:
