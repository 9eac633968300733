build2/firstboot/storage-main.o: firstboot/storage-main.c \
 common/cleanup.h common/macro.h common/diag.h firstboot/disk-apply.h \
 firstboot/disk-plan.h firstboot/disk-probe.h common/profile.h \
 common/yaml-tree.h common/util.h firstboot/journal.h firstboot/status.h \
 firstboot/secret.h common/fileio.h firstboot/image-identity.h \
 firstboot/install-apply.h firstboot/install-plan.h common/sha256sums.h \
 common/kickstart.h common/log.h firstboot/prompt.h \
 firstboot/answer-set.h common/json.h firstboot/prompt-plan.h \
 common/password.h firstboot/nic.h firstboot/storage-answers.h \
 firstboot/storage-main.h firstboot/options.h firstboot/role-profile.h
common/cleanup.h:
common/macro.h:
common/diag.h:
firstboot/disk-apply.h:
firstboot/disk-plan.h:
firstboot/disk-probe.h:
common/profile.h:
common/yaml-tree.h:
common/util.h:
firstboot/journal.h:
firstboot/status.h:
firstboot/secret.h:
common/fileio.h:
firstboot/image-identity.h:
firstboot/install-apply.h:
firstboot/install-plan.h:
common/sha256sums.h:
common/kickstart.h:
common/log.h:
firstboot/prompt.h:
firstboot/answer-set.h:
common/json.h:
firstboot/prompt-plan.h:
common/password.h:
firstboot/nic.h:
firstboot/storage-answers.h:
firstboot/storage-main.h:
firstboot/options.h:
firstboot/role-profile.h:
