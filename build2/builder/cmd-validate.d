build2/builder/cmd-validate.o: builder/cmd-validate.c common/cleanup.h \
 common/macro.h builder/commands.h common/log.h common/profile.h \
 common/diag.h common/yaml-tree.h common/util.h builder/validate-ks.h
common/cleanup.h:
common/macro.h:
builder/commands.h:
common/log.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
common/util.h:
builder/validate-ks.h:
