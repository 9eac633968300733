/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: any bytes through the kickstart parser and validator, then the site check
 * against a small fixed site, so the model the parser returns is walked too. */
#include <stddef.h>
#include <stdint.h>

#include "kickstart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct vlan_spec vlans[] = {
                { .id = 10, .subnet = 0x0a000a00, .prefix = 24, .gateway = 0x0a000a01 },
                { .id = 20, .subnet = 0x0a003200, .prefix = 24, .gateway = 0x0a003201 },
        };
        static struct host_address addrs[] = { { .vlan = 20, .addr = 0x0a00320c }, { .vlan = 10, .addr = 0x0a000a0c } };
        static struct host_spec host = { .name = (char *) "lab-db1", .role = (char *) "db", .addresses = addrs,
                                         .n_addresses = 2 };
        static char *dns[] = { (char *) "10.0.50.11", NULL };
        static struct site site = { .domain = (char *) "domain.com", .default_vlan = 20, .dns = dns, .ntp = dns,
                                    .timezone = (char *) "Etc/UTC", .vlans = vlans, .n_vlans = 2, .hosts = &host,
                                    .n_hosts = 1 };

        struct diags d = {};
        struct ks *ks = NULL;
        if (ks_parse_buffer("fuzz.ks", (const char *) data, size, &d, &ks) >= 0) {
                (void) ks_has_secrets(ks);
                ks_check_site(ks, &site, &d);
                for (size_t i = 0; i < ks->n_parts; i++) {
                        const char *a = ks_part_disk_alias(&ks->parts[i]);
                        if (a)
                                (void) ks_find_disk(ks, a);
                }
        }
        ks_free(ks);
        diags_done(&d);
        return 0;
}
