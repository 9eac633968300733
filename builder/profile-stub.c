/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "profile-stub.h"
#include "util.h"

static const char *const stub_roles[] = { "id", "db", "app", "comm", "voip", "biz", "erp", "it", "infra", NULL };

int stub_profile_new(const char *role, struct profile **ret) {
        bool known = false;
        for (size_t i = 0; stub_roles[i]; i++)
                known = known || streq(stub_roles[i], role);
        if (!known)
                return -ENOENT;
        struct profile *p = calloc(1, sizeof *p);
        if (!p || !(p->role = strdup(role)))
                goto oom;
        if (streq(role, "db")) {
                p->n_services = 1;
                p->services = calloc(1, sizeof *p->services);
                if (!p->services)
                        goto oom;
                p->services[0] = (struct service_spec) { .name = strdup("postgresql"), .source = SERVICE_SOURCE_DISTRO,
                                                         .fetch = SERVICE_FETCH_BUILD };
                if (!p->services[0].name || strv_extend(&p->services[0].packages, "postgresql") < 0 ||
                    strv_extend(&p->packages, "pgbouncer") < 0 || strv_extend(&p->packages, "redis-server") < 0)
                        goto oom;
        }
        *ret = p;
        return 0;
oom:
        stub_profile_free(p);
        return -ENOMEM;
}

void stub_profile_free(struct profile *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n_services; i++) {
                free(p->services[i].name);
                strv_free(p->services[i].packages);
        }
        free(p->services);
        strv_free(p->packages);
        free(p->role);
        free(p);
}

int stub_site_new(struct site **ret) {
        struct site *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->n_hosts = 9;
        s->hosts = calloc(9, sizeof *s->hosts);
        if (!s->hosts || !(s->domain = strdup("domain.com")))
                goto oom;
        for (size_t i = 0; i < 9; i++) {
                s->hosts[i].role = strdup(stub_roles[i]);
                s->hosts[i].name = strprintf("lab-%s1", stub_roles[i]);
                if (!s->hosts[i].role || !s->hosts[i].name)
                        goto oom;
        }
        *ret = s;
        return 0;
oom:
        stub_site_free(s);
        return -ENOMEM;
}

void stub_site_free(struct site *s) {
        if (!s)
                return;
        for (size_t i = 0; i < s->n_hosts; i++) {
                free(s->hosts[i].role);
                free(s->hosts[i].name);
        }
        free(s->hosts);
        free(s->domain);
        free(s);
}

const struct host_spec *stub_find_host_by_role(const struct site *s, const char *role) {
        for (size_t i = 0; i < s->n_hosts; i++)
                if (streq(s->hosts[i].role, role))
                        return &s->hosts[i];
        return NULL;
}
