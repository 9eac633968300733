/* SPDX-License-Identifier: MIT */
/* The first-boot run: each step in order, one status, one last console line. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "answers.h"
#include "cleanup.h"
#include "diag.h"
#include "fileio.h"
#include "log.h"
#include "prompt.h"
#include "run-steps.h"
#include "run.h"
#include "storage-main.h"
#include "util.h"

static const struct run_step steps[] = {
        { "answers", step_answers },
        { "report", step_report },
        { "identity", step_identity },
        { "storage", step_storage },
        { "network", step_network },
        { "services", step_services },
        { "system", step_system },
        { "join", step_join },
};

int step_storage(struct run_ctx *c) {
        struct options so = *c->o;
        so.ks = c->ks_path;
        int r = storage_step_confirm(&so, c->status, prompt_confirm_wipe, NULL);
        if (r != 0)
                return r == 2 ? -EINVAL : -EIO; /* storage_step recorded the failure */
        (void) status_step(c->status, "storage", "done", NULL);
        return 0;
}

static int load_image_config(struct run_ctx *c) {
        const char *profile = c->o->profile;
        _cleanup_free_ char *def_profile = strprintf("%s/usr/share/rackstack/profile.yaml", c->root);
        _cleanup_free_ char *def_site = strprintf("%s/usr/share/rackstack/site.yaml", c->root);
        if (!def_profile || !def_site)
                return -ENOMEM;
        if (!profile && !c->o->role && access(def_profile, F_OK) == 0)
                profile = def_profile;
        _cleanup_(diags_done) struct diags d = {};
        int r;
        if (profile && (r = profile_load_file(profile, &d, &c->profile)) < 0) {
                diags_print(&d, stderr);
                return r;
        }
        if (access(def_site, F_OK) == 0 && (r = site_load_file(def_site, &d, &c->site)) < 0) {
                diags_print(&d, stderr);
                return r;
        }
        if (c->site && c->profile)
                c->host = site_find_host_by_role(c->site, c->profile->role);
        return 0;
}

static void run_ctx_done(struct run_ctx *c) {
        free(c->ks_path);
        free(c->ks_origin);
        ks_free(c->ks);
        profile_free(c->profile);
        site_free(c->site);
        if (c->root_fd >= 0)
                close(c->root_fd);
}

int run_firstboot(const struct options *o) {
        _cleanup_(status_done) struct status st = {};
        _cleanup_(run_ctx_done) struct run_ctx c = { .o = o, .root = o->root, .root_fd = -EBADF, .status = &st,
                                                     .dry_run = o->dry_run };
        printf("rackstack-firstboot: starting (root %s)\n", o->root);
        fflush(stdout);

        c.root_fd = open(o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c.root_fd < 0) {
                log_error_errno(-errno, "Cannot open root '%s': %m", o->root);
                return 1;
        }
        int r = load_image_config(&c);
        if (r < 0) {
                (void) status_fail(&st, "answers", "the image's profile or site does not load (see above)");
                (void) status_finish(&st, c.root_fd);
                return 1;
        }
        for (size_t i = 0; i < ELEMENTSOF(steps) && r >= 0; i++) {
                (void) status_start(&st, steps[i].name, NULL);
                r = steps[i].run(&c);
                fflush(stdout);
                if (r < 0 && !st.failed_step)
                        (void) status_fail(&st, steps[i].name, strerror(-r));
        }
        if (r >= 0) {
                _cleanup_free_ char *stamp = strprintf("%s/var/lib/rackstack/done", o->root);
                if (!stamp || write_file_atomic(AT_FDCWD, stamp, "", 0, 0644) < 0)
                        log_warning("Cannot write the done stamp; firstboot will run again on the next boot");
        }
        (void) status_finish(&st, c.root_fd);
        /* A failed run stays up, so the console shows why. */
        if (r >= 0 && !c.dry_run)
                system_power_after(c.ks, o->root);
        return r < 0 ? 1 : 0;
}
