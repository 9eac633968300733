build2/firstboot/install-plan.o: firstboot/install-plan.c \
 common/cleanup.h common/macro.h firstboot/image-identity.h common/diag.h \
 firstboot/install-plan.h firstboot/disk-plan.h firstboot/disk-probe.h \
 common/profile.h common/yaml-tree.h common/util.h common/sha256sums.h \
 common/parse.h
common/cleanup.h:
common/macro.h:
firstboot/image-identity.h:
common/diag.h:
firstboot/install-plan.h:
firstboot/disk-plan.h:
firstboot/disk-probe.h:
common/profile.h:
common/yaml-tree.h:
common/util.h:
common/sha256sums.h:
common/parse.h:
