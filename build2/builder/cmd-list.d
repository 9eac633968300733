build2/builder/cmd-list.o: builder/cmd-list.c common/cleanup.h \
 common/macro.h builder/commands.h common/log.h common/parse.h \
 common/profile.h common/diag.h common/yaml-tree.h common/util.h
common/cleanup.h:
common/macro.h:
builder/commands.h:
common/log.h:
common/parse.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
common/util.h:
