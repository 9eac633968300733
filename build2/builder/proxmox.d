build2/builder/proxmox.o: builder/proxmox.c common/cleanup.h \
 common/macro.h common/escape.h common/util.h common/parse.h \
 builder/proxmox.h common/profile.h common/diag.h common/yaml-tree.h
common/cleanup.h:
common/macro.h:
common/escape.h:
common/util.h:
common/parse.h:
builder/proxmox.h:
common/profile.h:
common/diag.h:
common/yaml-tree.h:
