build2/builder/pki.o: builder/pki.c common/cleanup.h common/macro.h \
 common/log.h builder/secrets.h common/creds.h common/diag.h \
 common/profile.h common/yaml-tree.h common/wiring.h common/util.h
common/cleanup.h:
common/macro.h:
common/log.h:
builder/secrets.h:
common/creds.h:
common/diag.h:
common/profile.h:
common/yaml-tree.h:
common/wiring.h:
common/util.h:
