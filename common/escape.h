/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "util.h"

/* One helper per output syntax for every value a renderer writes into a config file or a script:
 * profile and site text (a VLAN name, a disk name, a description) is free text, and a newline in
 * it must not become a line of pg_hba.conf or a command of import.sh. Each helper either quotes
 * the value in that syntax or makes it inert; none lets a value end the line, the string or the
 * comment it is in. */

/* Text in a '#' comment (shell, pg_hba.conf, postgresql.conf, redis.conf, YAML, nftables, PVE
 * .conf, grub.cfg): control characters become '?', so the comment cannot end early. */
void buf_put_comment_text(struct buf *b, const char *s);

/* One POSIX shell word in single quotes ('\'' for a quote): inert in sh and bash. */
void buf_put_sh_quoted(struct buf *b, const char *s);

/* A YAML double-quoted scalar: \\ \" and \n \t \r \xNN for control characters. */
void buf_put_yaml_quoted(struct buf *b, const char *s);

/* An nftables "..." string: nft has no escapes, so '"', '\\' and control characters are dropped. */
void buf_put_nft_string(struct buf *b, const char *s);

/* A postgresql.conf string value: '...' with ' and \ doubled. -EINVAL (nothing written) for a
 * control character, which the format cannot carry. */
int buf_put_pg_quoted(struct buf *b, const char *s);

/* A redis.conf argument: as it is when it is a plain word (a generated password is), else
 * "..." with \\ \" \n \r \t \xNN, as redis' sdssplitargs() reads it. */
void buf_put_redis_arg(struct buf *b, const char *s);

/* Whether s can stand as a bare word on a kernel command line in grub.cfg, isolinux.cfg and an
 * iPXE script, which share no quoting: letters, digits and . _ - : / = , @ only, and not empty. */
bool boot_word_ok(const char *s);

/* A YAML scalar written plain when it is a simple word (letters, digits, . _ / - with a letter or
 * digit first), else double-quoted: keys and values stay as they were for ordinary names. */
void buf_put_yaml_scalar(struct buf *b, const char *s);
