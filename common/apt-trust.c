/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "apt-trust.h"
#include "cleanup.h"
#include "fileio.h"
#include "util.h"
#include "vendor.h"

void apt_trust_failure_done(struct apt_trust_failure *f) {
        free(f->detail);
        f->detail = NULL;
}

/* Returns r (< 0) after writing the failure; takes detail. */
static int fail(struct apt_trust_failure *ret, enum apt_trust_step step, int r, char *detail) {
        *ret = (struct apt_trust_failure) { .step = step, .detail = detail };
        return r;
}

/* url into path; on an HTTP failure *ret_detail is its wording. */
static int fetch(const struct apt_trust *t, const char *url, const char *path, char **ret_detail) {
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        int r = http_get_buffer(url, &t->http, &data, &size);
        if (r < 0) {
                *ret_detail = strdup(http_strerror(r));
                return r;
        }
        return write_file_atomic(AT_FDCWD, path, data, size, t->file_mode);
}

/* argv with the caller's process options; stdout captured into *ret_out when asked for, stderr
 * (and stdout otherwise) into *ret_tail. */
static int run(const struct apt_trust *t, const char *const argv[], char **ret_out, char **ret_tail) {
        struct proc_opts o = t->proc;
        o.out = ret_out ? PROC_OUT_CAPTURE : PROC_OUT_TAIL;
        o.err = PROC_OUT_TAIL;
        return proc_run(argv, &o, ret_tail, ret_out);
}

int apt_trust_check(const struct apt_trust *t, struct apt_trust_failure *ret_failure) {
        _cleanup_free_ char *detail = NULL, *out = NULL, *tail = NULL;

        /* 1. The key, checked by fingerprint: the URL only says where to find it. */
        int r = fetch(t, t->key_url, t->keyfile, &detail);
        if (r < 0)
                return fail(ret_failure, APT_TRUST_FETCH_KEY, r, TAKE_PTR(detail));
        const char *show[] = { "gpg", "--batch", "--no-tty", "--homedir", t->gnupg, "--with-colons", "--show-keys",
                               t->keyfile, NULL };
        r = run(t, show, &out, &tail);
        if (r != 0)
                return fail(ret_failure, APT_TRUST_LIST_KEY, r < 0 ? r : -EBADMSG, TAKE_PTR(tail));
        _cleanup_strv_free_ char **fprs = NULL;
        r = gpg_colons_fingerprints(out, &fprs);
        if (r < 0)
                return fail(ret_failure, APT_TRUST_LIST_KEY, r, TAKE_PTR(tail));
        if (!fprs[0])
                return fail(ret_failure, APT_TRUST_LIST_KEY, -EBADMSG, TAKE_PTR(tail));
        if (!strv_contains(fprs, t->fingerprint))
                return fail(ret_failure, APT_TRUST_PIN, -EBADMSG, strv_join(fprs, ", "));

        /* 2. Only the pinned key goes into the keyring, whatever else the file carried. */
        const char *imp[] = { "gpg", "--batch", "--no-tty", "--homedir", t->gnupg, "--import", t->keyfile, NULL };
        const char *exp[] = { "gpg", "--batch", "--no-tty", "--homedir", t->gnupg, "--yes", "--output", t->keyring,
                              "--export", t->fingerprint, NULL };
        free(tail);
        tail = NULL;
        r = run(t, imp, NULL, &tail);
        if (r == 0) {
                free(tail);
                tail = NULL;
                r = run(t, exp, NULL, &tail);
        }
        if (r != 0)
                return fail(ret_failure, APT_TRUST_KEYRING, r < 0 ? r : -EIO, TAKE_PTR(tail));

        /* 3. The repository's InRelease, signed by that key and no other. */
        r = fetch(t, t->inrelease_url, t->inrelease, &detail);
        if (r < 0)
                return fail(ret_failure, APT_TRUST_FETCH_RELEASE, r, TAKE_PTR(detail));
        const char *gpgv[] = { "gpgv", "--keyring", t->keyring, t->inrelease, NULL };
        free(tail);
        tail = NULL;
        r = run(t, gpgv, NULL, &tail);
        if (r != 0)
                return fail(ret_failure, APT_TRUST_VERIFY, r < 0 ? r : -EBADMSG, TAKE_PTR(tail));
        return 0;
}
