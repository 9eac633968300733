build2/common/kcmdline.o: common/kcmdline.c common/cleanup.h \
 common/macro.h common/kcmdline.h common/diag.h common/parse.h \
 common/util.h
common/cleanup.h:
common/macro.h:
common/kcmdline.h:
common/diag.h:
common/parse.h:
common/util.h:
