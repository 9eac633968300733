build2/firstboot/cmd.o: firstboot/cmd.c firstboot/cmd.h common/process.h
firstboot/cmd.h:
common/process.h:
