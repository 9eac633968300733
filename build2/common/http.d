build2/common/http.o: common/http.c common/cleanup.h common/macro.h \
 common/connect.h common/http.h common/lib-cleanup.h common/url.h \
 common/util.h
common/cleanup.h:
common/macro.h:
common/connect.h:
common/http.h:
common/lib-cleanup.h:
common/url.h:
common/util.h:
