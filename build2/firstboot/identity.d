build2/firstboot/identity.o: firstboot/identity.c common/cleanup.h \
 common/macro.h firstboot/cmd.h common/fileio.h firstboot/identity.h \
 common/kickstart.h common/diag.h common/profile.h common/yaml-tree.h \
 firstboot/journal.h common/json.h common/util.h common/parse.h
common/cleanup.h:
common/macro.h:
firstboot/cmd.h:
common/fileio.h:
firstboot/identity.h:
common/kickstart.h:
common/diag.h:
common/profile.h:
common/yaml-tree.h:
firstboot/journal.h:
common/json.h:
common/util.h:
common/parse.h:
