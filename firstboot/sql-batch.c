/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "sql-batch.h"

enum {
        M_NORMAL,
        M_DASH,       /* normal text, after '-': a second one starts a comment */
        M_SLASH,      /* normal text, after '/': a '*' starts a comment */
        M_BACKSLASH,  /* normal text, after '\': psql's own "\;" or a meta-command */
        M_META,       /* a psql meta-command: its line is its own */
        M_LINE_COMMENT,
        M_BLOCK_COMMENT,
        M_SQUOTE,
        M_SQUOTE_END, /* after a quote inside '...': '' goes on, anything else ends it */
        M_EQUOTE,
        M_EQUOTE_BS,  /* after a backslash inside E'...': the next character is taken as it is */
        M_EQUOTE_END,
        M_DQUOTE,
        M_DQUOTE_END,
        M_DOLLAR_OPEN, /* after '$': a tag up to the next '$', or not a dollar quote at all */
        M_DOLLAR,
};

void sql_batch_init(struct sql_batch *s, unsigned per_batch, size_t max_bytes) {
        *s = (struct sql_batch) { .per_batch = per_batch ? per_batch : 1, .max_bytes = max_bytes, .mode = M_NORMAL };
}

static bool ident_char(char c) {
        unsigned char u = (unsigned char) c;
        return u >= 0x80 || u == '_' || u == '$' || (u >= '0' && u <= '9') || ((u | 0x20) >= 'a' && (u | 0x20) <= 'z');
}

static bool tag_char(char c, bool first) {
        unsigned char u = (unsigned char) c;
        return u >= 0x80 || u == '_' || ((u | 0x20) >= 'a' && (u | 0x20) <= 'z') || (!first && u >= '0' && u <= '9');
}

static void terminator(struct sql_batch *s, struct buf *out) {
        s->statements++;
        if (++s->in_batch >= s->per_batch || s->batch_bytes >= s->max_bytes) {
                buf_putc(out, ';');
                s->in_batch = 0;
                s->batch_bytes = 0;
        } else
                buf_put(out, "\\;", 2);
}

/* One character of normal text (also the one a pending state handed back). */
static void normal(struct sql_batch *s, char c, struct buf *out) {
        switch (c) {
        case '\'':
                s->mode = (s->prev | 0x20) == 'e' && !ident_char(s->prev2) ? M_EQUOTE : M_SQUOTE;
                break;
        case '"': s->mode = M_DQUOTE; break;
        case '-': s->mode = M_DASH; break;
        case '/': s->mode = M_SLASH; break;
        case '\\': s->mode = M_BACKSLASH; break;
        case '$':
                if (!ident_char(s->prev)) {
                        s->mode = M_DOLLAR_OPEN;
                        s->tag_len = 0;
                }
                break;
        case '(': s->paren_depth++; break;
        case ')':
                if (s->paren_depth)
                        s->paren_depth--;
                break;
        case ';':
                if (s->paren_depth == 0) {
                        terminator(s, out);
                        s->prev2 = s->prev;
                        s->prev = c;
                        return;
                }
                break;
        default: break;
        }
        buf_putc(out, c);
        s->prev2 = s->prev;
        s->prev = c;
}

/* Leaves a pending state for normal text: the character is normal text again. */
static void back_to_normal(struct sql_batch *s, char c, char before, struct buf *out) {
        s->mode = M_NORMAL;
        s->prev2 = s->prev;
        s->prev = before;
        normal(s, c, out);
}

static void dollar_body(struct sql_batch *s, char c) {
        /* the closing "$tag$", matched as it comes; a '$' that breaks a match may start the next one */
        size_t want = s->tag_len + 2;
        char expect = s->match == 0 || s->match == want - 1 ? '$' : s->tag[s->match - 1];
        if (c == expect) {
                if (++s->match == want) {
                        s->mode = M_NORMAL;
                        s->prev2 = '$';
                        s->prev = '$';
                        s->match = 0;
                }
        } else
                s->match = c == '$' ? 1 : 0;
}

static void block_comment(struct sql_batch *s, char c) {
        /* PostgreSQL's block comments nest */
        if (s->slash_pending && c == '*') {
                s->comment_depth++;
                s->slash_pending = s->star_pending = false;
                return;
        }
        if (s->star_pending && c == '/') {
                s->slash_pending = s->star_pending = false;
                if (--s->comment_depth == 0) {
                        s->mode = M_NORMAL;
                        s->prev2 = s->prev = ' ';
                }
                return;
        }
        s->star_pending = c == '*';
        s->slash_pending = c == '/';
}

static void step(struct sql_batch *s, char c, struct buf *out) {
        switch (s->mode) {
        case M_NORMAL: normal(s, c, out); return;
        case M_DASH:
                if (c == '-') {
                        s->mode = M_LINE_COMMENT;
                        break;
                }
                back_to_normal(s, c, '-', out);
                return;
        case M_SLASH:
                if (c == '*') {
                        s->mode = M_BLOCK_COMMENT;
                        s->comment_depth = 1;
                        s->star_pending = s->slash_pending = false;
                        break;
                }
                back_to_normal(s, c, '/', out);
                return;
        case M_BACKSLASH:
                /* "\;" and "\:" are psql's own and stay on the line; any other is a meta-command */
                s->mode = c == ';' || c == ':' ? M_NORMAL : M_META;
                s->prev2 = s->prev = ' ';
                break;
        case M_META:
        case M_LINE_COMMENT:
                if (c == '\n') {
                        s->mode = M_NORMAL;
                        s->prev2 = s->prev = '\n';
                }
                break;
        case M_BLOCK_COMMENT: block_comment(s, c); break;
        case M_SQUOTE:
        case M_EQUOTE:
        case M_DQUOTE: {
                char q = s->mode == M_DQUOTE ? '"' : '\'';
                if (c == q)
                        s->mode = s->mode == M_SQUOTE ? M_SQUOTE_END : s->mode == M_EQUOTE ? M_EQUOTE_END : M_DQUOTE_END;
                else if (c == '\\' && s->mode == M_EQUOTE)
                        s->mode = M_EQUOTE_BS;
                break;
        }
        case M_EQUOTE_BS: s->mode = M_EQUOTE; break;
        case M_SQUOTE_END:
        case M_EQUOTE_END:
        case M_DQUOTE_END: {
                char q = s->mode == M_DQUOTE_END ? '"' : '\'';
                if (c == q) { /* doubled: still inside */
                        s->mode = s->mode == M_SQUOTE_END ? M_SQUOTE : s->mode == M_EQUOTE_END ? M_EQUOTE : M_DQUOTE;
                        break;
                }
                back_to_normal(s, c, q, out);
                return;
        }
        case M_DOLLAR_OPEN:
                if (c == '$') {
                        s->mode = M_DOLLAR;
                        s->match = 0;
                        break;
                }
                if (tag_char(c, s->tag_len == 0) && s->tag_len < sizeof(s->tag)) {
                        s->tag[s->tag_len++] = c;
                        break;
                }
                /* "$1" or "a$b": not a dollar quote; what was read is normal text (no ';' in it) */
                back_to_normal(s, c, s->tag_len ? s->tag[s->tag_len - 1] : '$', out);
                return;
        case M_DOLLAR: dollar_body(s, c); break;
        default: break;
        }
        buf_putc(out, c);
}

void sql_batch_feed(struct sql_batch *s, const char *in, size_t n, struct buf *out) {
        for (size_t i = 0; i < n; i++) {
                s->batch_bytes++;
                step(s, in[i], out);
        }
}

bool sql_batch_unterminated(const struct sql_batch *s) {
        switch (s->mode) {
        case M_NORMAL:
        case M_DASH:
        case M_SLASH:
        case M_META:
        case M_LINE_COMMENT:
        case M_SQUOTE_END:
        case M_EQUOTE_END:
        case M_DQUOTE_END:
                return false;
        default:
                return true;
        }
}

static int write_full(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t w = write(fd, p, n);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += w;
                n -= (size_t) w;
        }
        return 0;
}

int sql_batch_filter(int in_fd, int out_fd, unsigned per_batch, size_t max_bytes) {
        struct sql_batch s;
        sql_batch_init(&s, per_batch, max_bytes);
        char chunk[65536];
        for (;;) {
                ssize_t n = read(in_fd, chunk, sizeof(chunk));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                struct buf out = {};
                sql_batch_feed(&s, chunk, (size_t) n, &out);
                if (out.oom) {
                        buf_done(&out);
                        return -ENOMEM;
                }
                int r = write_full(out_fd, out.data, out.len);
                buf_done(&out);
                if (r < 0)
                        return r;
        }
        return sql_batch_unterminated(&s) ? -EBADMSG : 0;
}
