build2/firstboot/answers.o: firstboot/answers.c firstboot/answers.h \
 common/cleanup.h common/macro.h firstboot/creds-place.h common/creds.h \
 common/diag.h common/fileio.h common/http.h common/kcmdline.h \
 common/kickstart.h common/profile.h common/yaml-tree.h common/log.h \
 common/signed-sums.h common/util.h
firstboot/answers.h:
common/cleanup.h:
common/macro.h:
firstboot/creds-place.h:
common/creds.h:
common/diag.h:
common/fileio.h:
common/http.h:
common/kcmdline.h:
common/kickstart.h:
common/profile.h:
common/yaml-tree.h:
common/log.h:
common/signed-sums.h:
common/util.h:
