build2/common/url.o: common/url.c common/cleanup.h common/macro.h \
 common/url.h common/util.h
common/cleanup.h:
common/macro.h:
common/url.h:
common/util.h:
