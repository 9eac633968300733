/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: any bytes as what a person types at the console prompt, one line per question
 * of the ask-everything plan for the db role (a refused line is replaced by Enter, as the person
 * would be asked again). The property: answers the prompt accepts always render to a kickstart that
 * parses and that the network adapter takes; otherwise the harness aborts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "answer-set.h"
#include "answers-render.h"
#include "kickstart.h"
#include "net-answers.h"
#include "prompt-plan.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S(x) ((char *) (x))
#define IP(a, b, c, d) (((uint32_t) (a) << 24) | ((uint32_t) (b) << 16) | ((uint32_t) (c) << 8) | (uint32_t) (d))

static uint16_t db_vlans[] = { 10, 20, 40 };
static struct vlan_spec vlans[] = {
        { .id = 10, .name = S("management"), .subnet = IP(10, 0, 10, 0), .prefix = 24, .gateway = IP(10, 0, 10, 1) },
        { .id = 20, .name = S("infrastructure"), .subnet = IP(10, 0, 50, 0), .prefix = 24, .gateway = IP(10, 0, 50, 1) },
        { .id = 40, .name = S("database"), .subnet = IP(10, 0, 40, 0), .prefix = 24 },
};
static struct host_address addrs[] = {
        { .vlan = 10, .addr = IP(10, 0, 10, 12) }, { .vlan = 20, .addr = IP(10, 0, 50, 12) },
        { .vlan = 40, .addr = IP(10, 0, 40, 12) },
};
static struct host_spec host = { .name = S("lab-db1"), .role = S("db"), .addresses = addrs, .n_addresses = 3 };
static char *dns[] = { S("10.0.50.11"), NULL };
static struct site site = { .domain = S("domain.com"), .default_vlan = 20, .dns = dns, .vlans = vlans, .n_vlans = 3,
                            .hosts = &host, .n_hosts = 1 };
static struct profile profile = {
        .role = S("db"),
        .bond = { .name = S("bond0"), .mode = BOND_MODE_8023AD, .miimon = 100, .members = 2 },
        .vlans = db_vlans, .n_vlans = 3,
};
static struct nic nic_arr[] = {
        { .name = S("enp1s0"), .mac = S("52:54:00:00:00:11"), .physical = true, .carrier = true, .speed_mbps = 10000 },
        { .name = S("enp2s0"), .mac = S("52:54:00:00:00:12"), .physical = true, .carrier = true, .speed_mbps = 10000 },
        { .name = S("enp3s0"), .mac = S("52:54:00:00:00:13"), .physical = true, .carrier = false },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = strndup((const char *) data, size);
        if (!text)
                return 0;
        struct nic_list nics = { nic_arr, ELEMENTSOF(nic_arr) };
        struct answers_input ai = { .profile = &profile, .site = &site };
        struct answer_set set = {};
        struct prompt_plan plan = {};
        char *out = NULL;
        if (answers_collect(&ai, &set) < 0)
                goto done;
        struct prompt_input in = { .known = &set, .profile = &profile, .site = &site, .nics = &nics, .all = true };
        if (prompt_plan_build(&in, &plan) < 0)
                goto done;

        char *save = NULL, *line = strtok_r(text, "\n", &save);
        for (size_t i = 0; i < plan.n; i++, line = line ? strtok_r(NULL, "\n", &save) : NULL) {
                const struct question *q = &plan.q[i];
                if (q->kind == QUESTION_SECRET)
                        continue; /* hashing is slow and not what is fuzzed here: root stays locked */
                char *value = NULL, *reason = NULL;
                int r = prompt_check(&in, q, line ? line : "", &value, &reason);
                if (r == -EINVAL) {
                        free(reason);
                        reason = NULL;
                        r = prompt_check(&in, q, "", &value, &reason); /* asked again: the person hits Enter */
                }
                free(reason);
                if (r < 0)
                        goto done; /* no default either: the person must type something valid */
                r = answer_set_replace(&set, q->key, value, "prompt");
                free(value);
                if (r < 0)
                        goto done;
        }

        if (answers_render_ks(&set, NULL, NULL, &profile, &site, NULL, &out) < 0)
                abort(); /* every VLAN was answered */
        struct diags d = {};
        struct ks *ks = NULL;
        struct net_answers_store st = {};
        if (ks_parse_buffer("prompt.ks", out, strlen(out), &d, &ks) < 0 ||
            net_answers_from_ks(ks, "bond0", &d, &st) < 0) {
                diags_print(&d, stderr);
                fputs(out, stderr);
                abort(); /* the prompt accepted what the kickstart path refuses */
        }
        net_answers_store_done(&st);
        ks_free(ks);
        diags_done(&d);
done:
        free(out);
        prompt_plan_done(&plan);
        answer_set_done(&set);
        free(text);
        return 0;
}
