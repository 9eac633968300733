build2/firstboot/install-apply.o: firstboot/install-apply.c \
 common/cleanup.h common/macro.h firstboot/disk-apply.h \
 firstboot/disk-plan.h firstboot/disk-probe.h common/profile.h \
 common/diag.h common/yaml-tree.h common/util.h firstboot/journal.h \
 firstboot/status.h firstboot/secret.h common/fileio.h common/http.h \
 firstboot/image-identity.h firstboot/install-apply.h \
 firstboot/install-plan.h common/sha256sums.h common/gpt.h \
 common/lib-cleanup.h common/log.h
common/cleanup.h:
common/macro.h:
firstboot/disk-apply.h:
firstboot/disk-plan.h:
firstboot/disk-probe.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
common/util.h:
firstboot/journal.h:
firstboot/status.h:
firstboot/secret.h:
common/fileio.h:
common/http.h:
firstboot/image-identity.h:
firstboot/install-apply.h:
firstboot/install-plan.h:
common/sha256sums.h:
common/gpt.h:
common/lib-cleanup.h:
common/log.h:
