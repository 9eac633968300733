build2/builder/secrets.o: builder/secrets.c common/cleanup.h \
 common/macro.h common/fileio.h common/parse.h builder/secrets.h \
 common/creds.h common/diag.h common/profile.h common/yaml-tree.h \
 common/wiring.h common/util.h
common/cleanup.h:
common/macro.h:
common/fileio.h:
common/parse.h:
builder/secrets.h:
common/creds.h:
common/diag.h:
common/profile.h:
common/yaml-tree.h:
common/wiring.h:
common/util.h:
