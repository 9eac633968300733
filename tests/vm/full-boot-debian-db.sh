#!/bin/bash
# Debian 12 stays a supported base: the db image built on it boots with the db role's hardware to
# "rackstack-firstboot: finished" (role-boot.sh; the image is kept in build/vm-images/debian-12/).
RACKSTACK_VM_BASE=debian-12 exec "$(dirname "$0")/role-boot.sh" db
