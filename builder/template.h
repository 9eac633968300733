/* SPDX-License-Identifier: MIT */
#pragma once

/* The boot menus and netboot scripts in iso/ are templates: @NAME@ (upper-case letters, digits
 * and '_') is replaced by the value of NAME. A name that is not given is an error, so a typo in a
 * template fails the build instead of booting a kernel with "@PXE_URL@" on its command line. Any
 * other '@' is kept as it is. */

/* vars: NULL-terminated list of name, value pairs. On an unknown name returns -ENOKEY and, if
 * ret_unknown is given, the name. */
int template_expand(const char *text, const char *const *vars, char **ret, char **ret_unknown);
