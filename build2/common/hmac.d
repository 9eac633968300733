build2/common/hmac.o: common/hmac.c common/hmac.h
common/hmac.h:
