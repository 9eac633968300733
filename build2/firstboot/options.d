build2/firstboot/options.o: firstboot/options.c firstboot/options.h \
 common/util.h common/macro.h
firstboot/options.h:
common/util.h:
common/macro.h:
