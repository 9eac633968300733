build2/builder/cmd-show.o: builder/cmd-show.c common/cleanup.h \
 common/macro.h builder/commands.h common/json.h common/util.h \
 common/log.h common/parse.h common/profile.h common/diag.h \
 common/yaml-tree.h
common/cleanup.h:
common/macro.h:
builder/commands.h:
common/json.h:
common/util.h:
common/log.h:
common/parse.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
