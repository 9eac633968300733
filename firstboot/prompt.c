/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/klog.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "kcmdline.h"
#include "log.h"
#include "prompt.h"
#include "util.h"

#define SYSLOG_ACTION_CONSOLE_OFF 6
#define SYSLOG_ACTION_CONSOLE_ON 7
#define LINE_MAX_BYTES 1024

struct console {
        char *name;
        int in_fd, out_fd;
        bool owned;      /* we opened it (close it) */
        bool tty;
        bool raw;        /* saved holds the mode to restore */
        struct termios saved;
        bool dead;
        struct buf line;
        struct buf pending; /* bytes read past the end of the last line (a pipe delivers several at once) */
};

struct session {
        struct console *c;
        size_t n;
        struct console *locked; /* the console a person answered on */
        uint64_t timeout_usec;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
        interrupted = sig;
}

int prompt_kernel_consoles(const char *cmdline, char ***ret) {
        _cleanup_(kcmdline_freep) struct kcmdline *kc = NULL;
        int r = kcmdline_parse(cmdline, &kc);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **l = NULL;
        for (size_t i = 0; i < kc->n; i++) {
                const struct kcmdline_entry *e = &kc->entries[i];
                if (!streq(e->key, "console") || !e->value || !*e->value)
                        continue;
                _cleanup_free_ char *name = strndup(e->value, strcspn(e->value, ","));
                if (!name)
                        return -ENOMEM;
                if (strchr(name, '/') || streq(name, "null"))
                        continue;
                char *dev = streq(name, "tty0") ? strdup("/dev/tty1") : strprintf("/dev/%s", name);
                if (!dev)
                        return -ENOMEM;
                if (strv_contains(l, dev)) {
                        free(dev);
                        continue;
                }
                if ((r = strv_push(&l, dev)) < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static void say(struct console *c, const char *s) {
        size_t n = strlen(s);
        while (!c->dead && n > 0) {
                ssize_t k = write(c->out_fd, s, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN) {
                        struct pollfd p = { .fd = c->out_fd, .events = POLLOUT };
                        if (poll(&p, 1, 1000) <= 0)
                                return; /* a stuck serial line: drop output rather than hang */
                        continue;
                }
                if (k <= 0) {
                        c->dead = true; /* no such port (EIO), hung up */
                        return;
                }
                s += k;
                n -= (size_t) k;
        }
}

/* To the console a person answers on, or to all of them until one does. */
static void say_all(struct session *s, const char *text) {
        if (s->locked) {
                say(s->locked, text);
                return;
        }
        for (size_t i = 0; i < s->n; i++)
                say(&s->c[i], text);
}

static void say_allf(struct session *s, const char *fmt, ...) _printf_(2, 3);
static void say_allf(struct session *s, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *t = strvprintf(fmt, ap);
        va_end(ap);
        if (t)
                say_all(s, t);
}

static int console_add(struct session *s, const char *name, int in_fd, int out_fd, bool owned) {
        struct console *n = realloc(s->c, (s->n + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        s->c = n;
        struct console *c = &s->c[s->n];
        *c = (struct console) { .name = strdup(name), .in_fd = in_fd, .out_fd = out_fd, .owned = owned };
        if (!c->name)
                return -ENOMEM;
        s->n++;
        c->tty = isatty(in_fd);
        if (c->tty && tcgetattr(in_fd, &c->saved) == 0) {
                /* We edit lines ourselves: no canonical mode, no echo, no signals (Ctrl-C must work on a
                 * console that is not our controlling terminal, too). Output processing stays on. */
                struct termios t = c->saved;
                t.c_lflag &= ~(tcflag_t) (ICANON | ECHO | ECHONL | ISIG | IEXTEN);
                t.c_iflag &= ~(tcflag_t) (IXON | INLCR | IGNCR);
                t.c_iflag |= ICRNL;
                t.c_cc[VMIN] = 1;
                t.c_cc[VTIME] = 0;
                if (tcsetattr(in_fd, TCSAFLUSH, &t) == 0)
                        c->raw = true;
        }
        return 0;
}

static void session_done(struct session *s) {
        for (size_t i = 0; i < s->n; i++) {
                struct console *c = &s->c[i];
                if (c->raw)
                        (void) tcsetattr(c->in_fd, TCSAFLUSH, &c->saved);
                if (c->owned)
                        close(c->in_fd);
                free(c->name);
                if (c->line.data)
                        explicit_bzero(c->line.data, c->line.cap);
                buf_done(&c->line);
                if (c->pending.data)
                        explicit_bzero(c->pending.data, c->pending.cap);
                buf_done(&c->pending);
        }
        free(s->c);
        *s = (struct session) {};
}

static int session_open(struct session *s, const struct prompt_options *o) {
        _cleanup_strv_free_ char **kernel = NULL;
        char **devs = o->consoles;
        int r;
        if (!devs && !o->use_stdio) {
                _cleanup_free_ char *cmdline = NULL;
                const char *line = o->cmdline;
                if (!line && read_file_full(AT_FDCWD, "/proc/cmdline", 65536, &cmdline, NULL) >= 0)
                        line = cmdline;
                if ((r = prompt_kernel_consoles(line, &kernel)) < 0)
                        return r;
                if (!kernel && ((r = strv_extend(&kernel, "/dev/tty1")) < 0 ||
                                (r = strv_extend(&kernel, "/dev/ttyS0")) < 0))
                        return r;
                devs = kernel;
        }
        if (o->use_stdio && (r = console_add(s, "stdin", STDIN_FILENO, STDOUT_FILENO, false)) < 0)
                return r;
        for (char **d = devs; d && *d; d++) {
                /* O_NONBLOCK: opening a serial port must not wait for a modem's carrier */
                int fd = open(*d, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
                if (fd < 0) {
                        log_debug_errno(-errno, "Cannot open console %s: %m", *d);
                        continue;
                }
                if ((r = console_add(s, *d, fd, fd, true)) < 0) {
                        close(fd);
                        return r;
                }
        }
        return s->n > 0 ? 0 : -ENODEV;
}

enum read_result { READ_LINE, READ_EOF, READ_INTERRUPT, READ_TIMEOUT, READ_NOBODY };

/* Feed bytes to c's line editor: 1 a line is complete, 0 more needed, -EPIPE Ctrl-D on an empty line,
 * -EINTR Ctrl-C. */
static int edit(struct console *c, const char *p, size_t n, bool echo, size_t *ret_used) {
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char) p[i];
                *ret_used = i + 1;
                if (ch == '\n' || ch == '\r') {
                        if (c->tty)
                                say(c, "\n");
                        return 1;
                }
                if (ch == 0x03)
                        return -EINTR;
                if (ch == 0x04) {
                        if (c->line.len == 0)
                                return -EPIPE;
                        continue;
                }
                if (ch == 0x7f || ch == 0x08) {
                        if (c->line.len > 0) {
                                /* a UTF-8 character is one column: drop its continuation bytes too */
                                do
                                        c->line.len--;
                                while (c->line.len > 0 && ((unsigned char) c->line.data[c->line.len] & 0xc0) == 0x80);
                                if (echo && c->tty)
                                        say(c, "\b \b");
                        }
                        continue;
                }
                if (ch == 0x15) { /* Ctrl-U */
                        while (echo && c->tty && c->line.len-- > 0)
                                say(c, "\b \b");
                        c->line.len = 0;
                        continue;
                }
                if (ch < 0x20)
                        continue;
                if (c->line.len >= LINE_MAX_BYTES)
                        continue;
                buf_putc(&c->line, (char) ch);
                if (echo && c->tty) {
                        char e[2] = { (char) ch, 0 };
                        say(c, e);
                }
        }
        return 0;
}

/* Bytes from console c: READ_LINE with *ret_line, READ_EOF / READ_INTERRUPT, or -1 for "no line yet"
 * (or the console was dropped). */
static int feed(struct session *s, struct console *c, const char *b, size_t got, bool echo, char **ret_line) {
        size_t used = 0;
        int r = edit(c, b, got, echo, &used);
        if (r == -EINTR)
                return READ_INTERRUPT;
        if (r == -EPIPE) {
                if (c->tty || s->locked == c)
                        return READ_EOF;
                c->dead = true;
                return -1;
        }
        if (r == 0)
                return -1;
        buf_done(&c->pending);
        if (got > used)
                buf_put(&c->pending, b + used, got - used);
        if (!c->tty)
                say(c, "\n"); /* nothing echoed the line: end it, so a log of the session reads well */
        if (!s->locked) {
                s->locked = c;
                for (size_t i = 0; i < s->n; i++)
                        if (&s->c[i] != c)
                                say(&s->c[i], "\nrackstack-firstboot: answering on another console\n");
        }
        char *line = buf_steal(&c->line);
        c->line = (struct buf) {};
        if (!line)
                return READ_NOBODY;
        *ret_line = line;
        return READ_LINE;
}

/* Read one line from whichever console completes one first. */
static enum read_result read_line(struct session *s, bool echo, char **ret_line) {
        for (size_t i = 0; i < s->n; i++)
                s->c[i].line.len = 0;
        for (size_t i = 0; i < s->n; i++) {
                struct console *c = &s->c[i];
                if (c->dead || c->pending.len == 0 || (s->locked && s->locked != c))
                        continue;
                struct buf p = c->pending;
                c->pending = (struct buf) {};
                int r = feed(s, c, p.data, p.len, echo, ret_line);
                explicit_bzero(p.data, p.cap);
                buf_done(&p);
                if (r >= 0)
                        return (enum read_result) r;
        }
        double deadline = now_monotonic() + (double) s->timeout_usec / 1e6;
        for (;;) {
                if (interrupted)
                        return READ_INTERRUPT;
                struct pollfd p[16];
                size_t idx[16], np = 0;
                for (size_t i = 0; i < s->n && np < 16; i++)
                        if (!s->c[i].dead && (!s->locked || s->locked == &s->c[i])) {
                                p[np] = (struct pollfd) { .fd = s->c[i].in_fd, .events = POLLIN };
                                idx[np++] = i;
                        }
                if (np == 0)
                        return READ_NOBODY;
                double left = deadline - now_monotonic();
                if (left <= 0)
                        return READ_TIMEOUT;
                int k = poll(p, np, (int) (left * 1000) + 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return READ_NOBODY;
                for (size_t j = 0; j < np; j++) {
                        if (!p[j].revents)
                                continue;
                        struct console *c = &s->c[idx[j]];
                        char b[256];
                        ssize_t got = read(c->in_fd, b, sizeof b);
                        if (got < 0 && (errno == EAGAIN || errno == EINTR))
                                continue;
                        if (got <= 0) {
                                /* A pipe or /dev/null that ends before anyone answered had nobody
                                 * behind it; a terminal that hangs up, or a console that already
                                 * answered, ends the input. */
                                if (s->locked == c || (c->tty && got == 0))
                                        return READ_EOF;
                                c->dead = true;
                                continue;
                        }
                        /* a person is here: the idle timeout starts again */
                        deadline = now_monotonic() + (double) s->timeout_usec / 1e6;
                        int r = feed(s, c, b, (size_t) got, echo, ret_line);
                        explicit_bzero(b, sizeof b);
                        if (r >= 0)
                                return (enum read_result) r;
                }
        }
}

static int fail(char **ret_reason, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(char **ret_reason, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        *ret_reason = strvprintf(fmt, ap);
        va_end(ap);
        return *ret_reason ? r : -ENOMEM;
}

static int read_result_error(enum read_result rr, const struct session *s, char **ret_reason) {
        switch (rr) {
        case READ_INTERRUPT:
                return fail(ret_reason, -EINTR, "interrupted at the prompt");
        case READ_EOF:
                return fail(ret_reason, -EPIPE, "end of input at the prompt");
        case READ_TIMEOUT:
                return fail(ret_reason, -ETIMEDOUT, "no answer at any console within %llu s",
                            (unsigned long long) (s->timeout_usec / 1000000));
        default:
                return fail(ret_reason, -ETIMEDOUT, "no console has a person to answer (input ended on all)");
        }
}

static void free_secret(char *s) {
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
}

/* One question until it is answered validly: 0 with *ret_value, or a failure. */
static int ask(struct session *s, struct prompt_input *in, const struct question *q, char **ret_value,
               char **ret_reason) {
        if (q->help)
                say_all(s, q->help);
        for (;;) {
                if (q->kind == QUESTION_CONFIRM || !q->def)
                        say_allf(s, "%s: ", q->text);
                else
                        say_allf(s, "%s [%s]: ", q->text, q->def);
                char *typed = NULL;
                enum read_result rr = read_line(s, q->kind != QUESTION_SECRET, &typed);
                if (rr != READ_LINE)
                        return read_result_error(rr, s, ret_reason);
                _cleanup_free_ char *value = NULL, *why = NULL;
                int r = prompt_check(in, q, typed, &value, &why);
                if (q->kind != QUESTION_SECRET)
                        free(typed);
                if (r == -EINVAL) {
                        if (q->kind == QUESTION_SECRET)
                                free_secret(typed);
                        say_allf(s, "  %s; try again.\n", why);
                        continue;
                }
                if (r < 0) {
                        if (q->kind == QUESTION_SECRET)
                                free_secret(typed);
                        return r;
                }
                if (q->kind == QUESTION_SECRET && *typed) {
                        say_all(s, "Again: ");
                        char *again = NULL;
                        rr = read_line(s, false, &again);
                        bool same = rr == READ_LINE && streq(again, typed);
                        free_secret(typed);
                        free_secret(again);
                        if (rr != READ_LINE) {
                                free_secret(TAKE_PTR(value));
                                return read_result_error(rr, s, ret_reason);
                        }
                        if (!same) {
                                free_secret(TAKE_PTR(value));
                                say_all(s, "  the passwords differ; try again.\n");
                                continue;
                        }
                } else if (q->kind == QUESTION_SECRET)
                        free_secret(typed);
                *ret_value = TAKE_PTR(value);
                return 0;
        }
}

int prompt_run(const struct prompt_plan *plan, struct prompt_input *in, struct answer_set *set,
               const struct prompt_options *o, char **ret_reason) {
        if (plan->n == 0)
                return 0;
        _cleanup_(session_done) struct session s = { .timeout_usec = o->timeout_usec ? o->timeout_usec : 300 * 1000000ull };
        int r = session_open(&s, o);
        if (r == -ENODEV)
                return fail(ret_reason, r, "no console to ask on (tried the kernel's consoles)");
        if (r < 0)
                return r;

        struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
        sigemptyset(&sa.sa_mask);
        interrupted = 0;
        (void) sigaction(SIGINT, &sa, &old_int);
        (void) sigaction(SIGTERM, &sa, &old_term);
        bool muted = o->mute_kernel && klogctl(SYSLOG_ACTION_CONSOLE_OFF, NULL, 0) >= 0;

        if (plan->n == 1 && plan->q[0].kind == QUESTION_CONFIRM)
                say_all(&s, "\nrackstack-firstboot: the disk plan needs a person's confirmation (Ctrl-C stops).\n");
        else
                say_allf(&s, "\nrackstack-firstboot: %s; please answer on this console (Enter takes the [default]; "
                             "Ctrl-C stops).\n", in->all ? "the answers are to be confirmed" : "some answers are missing");
        in->known = set;
        for (size_t i = 0; r >= 0 && i < plan->n; i++) {
                const struct question *q = &plan->q[i];
                _cleanup_free_ char *value = NULL;
                r = ask(&s, in, q, &value, ret_reason);
                if (r < 0)
                        break;
                if (q->kind == QUESTION_SECRET) {
                        bool typed = *value; /* before the plain text is wiped */
                        if (typed) {
                                _cleanup_free_ char *hash = NULL;
                                r = password_hash(value, &hash);
                                explicit_bzero(value, strlen(value));
                                if (r < 0) {
                                        r = fail(ret_reason, r, "cannot hash the password: %s", strerror(-r));
                                        break;
                                }
                                free_secret(set->rootpw_hash);
                                set->rootpw_hash = TAKE_PTR(hash);
                        }
                        r = answer_set_replace(set, q->key, typed ? "set" : "locked", "prompt");
                } else if (q->kind == QUESTION_CONFIRM)
                        r = answer_set_replace(set, q->key, "confirmed", "prompt");
                else
                        r = answer_set_replace(set, q->key, value, "prompt");
        }
        if (r >= 0)
                say_all(&s, "rackstack-firstboot: thank you; going on.\n");
        else if (*ret_reason)
                say_allf(&s, "\nrackstack-firstboot: %s\n", *ret_reason);

        if (muted)
                (void) klogctl(SYSLOG_ACTION_CONSOLE_ON, NULL, 0);
        (void) sigaction(SIGINT, &old_int, NULL);
        (void) sigaction(SIGTERM, &old_term, NULL);
        return r < 0 ? r : 0;
}

int prompt_ask_host(const struct answers_input *ai, struct prompt_input *in, struct answer_set *set,
                    const struct prompt_options *o, char **ret_reason) {
        _cleanup_(prompt_plan_done) struct prompt_plan plan = {};
        in->known = set;
        int r = prompt_plan_host(in, &plan);
        if (r < 0 || plan.n == 0)
                return r;
        _cleanup_free_ char *why = NULL;
        r = prompt_run(&plan, in, set, o, &why);
        if (r < 0) {
                const char *label = ai->ks_label ? ai->ks_label : ai->ks ? ai->ks->file : NULL;
                *ret_reason = ai->ks ? strprintf("the kickstart (%s) names no host (no 'network --hostname=') and "
                                                 "it could not be asked: %s", strna(label), why ? why : strerror(-r))
                                     : strprintf("no source names the host and it could not be asked: %s",
                                                 why ? why : strerror(-r));
                return *ret_reason ? r : -ENOMEM;
        }
        _cleanup_free_ char *host = strdup(answer_set_value(set, "hostname") ?: "");
        if (!host)
                return -ENOMEM;
        struct answers_input again = *ai;
        again.hostname = host;
        struct answer_set fresh = {};
        r = answers_collect(&again, &fresh);
        if (r < 0)
                return r;
        answer_set_done(set);
        *set = fresh;
        in->known = set;
        in->host_asked = true;
        return 1;
}

int prompt_confirm_wipe(char **wipe, void *userdata, char **ret_reason) {
        struct prompt_options def = { .mute_kernel = true };
        const struct prompt_options *o = userdata ? userdata : &def;
        _cleanup_free_ char *cmdline = NULL;
        if (!o->timeout_usec) {
                _cleanup_(kcmdline_freep) struct kcmdline *kc = NULL;
                def = *o;
                def.timeout_usec = KCMDLINE_PROMPT_TIMEOUT_DEFAULT_SEC * 1000000ull;
                const char *line = o->cmdline;
                if (!line && read_file_full(AT_FDCWD, "/proc/cmdline", 65536, &cmdline, NULL) >= 0)
                        line = cmdline;
                if (kcmdline_parse(line, &kc) >= 0)
                        (void) kcmdline_prompt_timeout(kc, NULL, &def.timeout_usec);
                o = &def;
        }
        _cleanup_(answer_set_done) struct answer_set set = {};
        struct prompt_input in = { .known = &set, .wipe = wipe };
        /* the plan with only the confirmation: everything else is known to be answered */
        struct buf b = {};
        buf_puts(&b, "The disk plan wipes what these disks hold:\n");
        for (char **w = wipe; w && *w; w++)
                buf_printf(&b, "  %s\n", *w);
        struct question q = { .key = (char *) "disks.confirm", .text = (char *) "Type 'wipe' to wipe them",
                              .kind = QUESTION_CONFIRM, .word = (char *) "wipe", .help = buf_steal(&b) };
        struct prompt_plan plan = { .q = &q, .n = 1 };
        int r = q.help ? prompt_run(&plan, &in, &set, o, ret_reason) : -ENOMEM;
        free(q.help);
        return r;
}
