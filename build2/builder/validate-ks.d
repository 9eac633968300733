build2/builder/validate-ks.o: builder/validate-ks.c common/cleanup.h \
 common/macro.h builder/commands.h common/kickstart.h common/diag.h \
 common/profile.h common/yaml-tree.h common/util.h builder/validate-ks.h
common/cleanup.h:
common/macro.h:
builder/commands.h:
common/kickstart.h:
common/diag.h:
common/profile.h:
common/yaml-tree.h:
common/util.h:
builder/validate-ks.h:
