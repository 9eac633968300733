build2/common/password.o: common/password.c common/cleanup.h \
 common/macro.h common/password.h common/util.h
common/cleanup.h:
common/macro.h:
common/password.h:
common/util.h:
