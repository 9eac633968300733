build2/common/json.o: common/json.c common/json.h common/util.h \
 common/macro.h
common/json.h:
common/util.h:
common/macro.h:
