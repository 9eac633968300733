build2/builder/cmd-secrets.o: builder/cmd-secrets.c common/cleanup.h \
 common/macro.h builder/commands.h common/fileio.h common/log.h \
 builder/secrets.h common/creds.h common/diag.h common/profile.h \
 common/yaml-tree.h common/wiring.h common/util.h
common/cleanup.h:
common/macro.h:
builder/commands.h:
common/fileio.h:
common/log.h:
builder/secrets.h:
common/creds.h:
common/diag.h:
common/profile.h:
common/yaml-tree.h:
common/wiring.h:
common/util.h:
