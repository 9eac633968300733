build2/firstboot/install-main.o: firstboot/install-main.c \
 common/cleanup.h common/macro.h firstboot/answers.h common/ed25519.h \
 common/fileio.h firstboot/image-identity.h common/diag.h \
 firstboot/install-apply.h firstboot/install-plan.h firstboot/disk-plan.h \
 firstboot/disk-probe.h common/profile.h common/yaml-tree.h common/util.h \
 common/sha256sums.h common/gpt.h firstboot/install-main.h \
 common/kcmdline.h common/kickstart.h common/lib-cleanup.h common/parse.h \
 common/log.h common/signed-sums.h firstboot/role-profile.h \
 firstboot/storage-answers.h
common/cleanup.h:
common/macro.h:
firstboot/answers.h:
common/ed25519.h:
common/fileio.h:
firstboot/image-identity.h:
common/diag.h:
firstboot/install-apply.h:
firstboot/install-plan.h:
firstboot/disk-plan.h:
firstboot/disk-probe.h:
common/profile.h:
common/yaml-tree.h:
common/util.h:
common/sha256sums.h:
common/gpt.h:
firstboot/install-main.h:
common/kcmdline.h:
common/kickstart.h:
common/lib-cleanup.h:
common/parse.h:
common/log.h:
common/signed-sums.h:
firstboot/role-profile.h:
firstboot/storage-answers.h:
