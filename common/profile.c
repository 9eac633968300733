/* SPDX-License-Identifier: MIT */
/* Profile and site loading: located YAML tree -> inheritance -> typed structs (table-driven) ->
 * validation. Every problem is a diagnostic with the location of the value that caused it. */
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "parse.h"
#include "profile.h"
#include "util.h"
#include "vendor.h"

struct conv {
        struct diags *d;
        bool abstract; /* a profile that is only inherited (base.yaml): required keys may be missing */
};

typedef int (*field_parser)(struct conv *c, const struct ynode *n, void *dst);

struct field {
        const char *key;
        field_parser parse;
        size_t offset;
        bool required;
};

static void src_from(struct src *s, const struct ynode *n) {
        *s = (struct src) { .file = n->file, .line = n->line, .col = n->col };
}

#define ERR(c, n, ...) diag_error((c)->d, (n)->file, (n)->line, (n)->col, __VA_ARGS__)

static int expect_type(struct conv *c, const struct ynode *n, enum ynode_type t) {
        if (n->type == t)
                return 0;
        ERR(c, n, "expected %s, got %s", ynode_type_name(t), ynode_type_name(n->type));
        return -EINVAL;
}

/* Fill obj from a mapping through a field table. Unknown keys are errors with a near-miss hint.
 * Keeps going after an error so that one run reports everything. */
static int parse_fields(struct conv *c, const struct ynode *map, const struct field *fields, size_t n_fields,
                        void *obj, const char *what) {
        if (expect_type(c, map, YNODE_MAP) < 0)
                return -EINVAL;
        int ret = 0;
        for (size_t i = 0; i < map->n; i++) {
                const struct ypair *p = &map->pairs[i];
                const struct field *f = NULL;
                for (size_t j = 0; j < n_fields; j++)
                        if (streq(fields[j].key, p->key->scalar)) {
                                f = &fields[j];
                                break;
                        }
                if (!f) {
                        const char *keys[64];
                        size_t k;
                        for (k = 0; k < n_fields && k < ELEMENTSOF(keys) - 1; k++)
                                keys[k] = fields[k].key;
                        keys[k] = NULL;
                        const char *hint = closest_match(p->key->scalar, keys);
                        if (hint)
                                ERR(c, p->key, "unknown key '%s' in %s; did you mean '%s'?", p->key->scalar, what, hint);
                        else
                                ERR(c, p->key, "unknown key '%s' in %s", p->key->scalar, what);
                        ret = -EINVAL;
                        continue;
                }
                if (!f->parse)
                        continue;
                int r = f->parse(c, p->value, (char *) obj + f->offset);
                if (r < 0)
                        ret = r;
        }
        if (!c->abstract)
                for (size_t j = 0; j < n_fields; j++)
                        if (fields[j].required && !ynode_get(map, fields[j].key)) {
                                ERR(c, map, "%s is missing required key '%s'", what, fields[j].key);
                                ret = -EINVAL;
                        }
        return ret;
}

static int scalar(struct conv *c, const struct ynode *n, const char **ret) {
        if (expect_type(c, n, YNODE_SCALAR) < 0)
                return -EINVAL;
        *ret = n->scalar;
        return 0;
}

/* A number or a boolean: a quoted scalar is a string in every YAML tool, so "40" is refused where
 * a number is expected rather than read as one. */
static int plain_scalar(struct conv *c, const struct ynode *n, const char *what, const char **ret) {
        if (scalar(c, n, ret) < 0)
                return -EINVAL;
        if (n->quoted) {
                ERR(c, n, "'%s' is quoted, so it is a string in YAML, not %s: write it without quotes", *ret, what);
                return -EINVAL;
        }
        return 0;
}

static int p_string(struct conv *c, const struct ynode *n, void *dst) {
        const char *s;
        if (scalar(c, n, &s) < 0)
                return -EINVAL;
        if (isempty(s)) {
                ERR(c, n, "value may not be empty");
                return -EINVAL;
        }
        char *copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        free(*(char **) dst);
        *(char **) dst = copy;
        return 0;
}

static int p_unsigned(struct conv *c, const struct ynode *n, void *dst) {
        const char *s;
        uint32_t v;
        if (plain_scalar(c, n, "a number", &s) < 0)
                return -EINVAL;
        if (parse_uint32_range(s, 1, 1u << 20, &v) < 0) {
                ERR(c, n, "'%s' is not a positive whole number", s);
                return -EINVAL;
        }
        *(unsigned *) dst = v;
        return 0;
}

static int p_size(struct conv *c, const struct ynode *n, void *dst) {
        const char *s;
        uint64_t v;
        if (scalar(c, n, &s) < 0)
                return -EINVAL;
        if (parse_size(s, &v) < 0 || v == 0) {
                ERR(c, n, "'%s' is not a size; write a number with a binary unit, e.g. 512M, 50G, 2T", s);
                return -EINVAL;
        }
        *(uint64_t *) dst = v;
        return 0;
}

/* A name that is none of names: the nearest as a hint, else all of them (choices). */
static void err_unknown(struct conv *c, const struct ynode *n, const char *what, const char *s,
                        const char *const *names, const char *choices) {
        const char *hint = closest_match(s, names);
        if (hint)
                ERR(c, n, "unknown %s '%s'; did you mean '%s'?", what, s, hint);
        else
                ERR(c, n, "unknown %s '%s' (one of: %s)", what, s, choices);
}

/* A list of scalars, each kept once; with names, each must be one of them (what, choices: as for
 * err_unknown). */
static int strv_of(struct conv *c, const struct ynode *n, char ***l, const char *const *names, const char *what,
                   const char *choices) {
        if (expect_type(c, n, YNODE_SEQ) < 0)
                return -EINVAL;
        int ret = 0;
        for (size_t i = 0; i < n->n; i++) {
                const char *s;
                if (scalar(c, n->items[i], &s) < 0) {
                        ret = -EINVAL;
                        continue;
                }
                if (names && !strv_contains((char **) names, s)) {
                        err_unknown(c, n->items[i], what, s, names, choices);
                        ret = -EINVAL;
                        continue;
                }
                if (strv_contains(*l, s))
                        continue;
                if (strv_extend(l, s) < 0)
                        return -ENOMEM;
        }
        return ret;
}

static int p_strv(struct conv *c, const struct ynode *n, void *dst) {
        return strv_of(c, n, dst, NULL, NULL, NULL);
}

/* A scalar or a list of scalars, each a name in a table, into a bit mask. */
static int p_mask(struct conv *c, const struct ynode *n, unsigned *mask, int (*from)(const char *),
                  const char *what, const char *choices) {
        const struct ynode *one[1] = { n };
        const struct ynode *const *items = one;
        size_t count = 1;
        if (n->type == YNODE_SEQ) {
                items = (const struct ynode *const *) n->items;
                count = n->n;
        }
        unsigned m = 0;
        int ret = 0;
        for (size_t i = 0; i < count; i++) {
                const char *s;
                if (scalar(c, items[i], &s) < 0) {
                        ret = -EINVAL;
                        continue;
                }
                int v = from(s);
                if (v < 0) {
                        ERR(c, items[i], "unknown %s '%s' (one of: %s)", what, s, choices);
                        ret = -EINVAL;
                        continue;
                }
                m |= (unsigned) v;
        }
        if (ret == 0)
                *mask = m;
        return ret;
}

static int p_classes(struct conv *c, const struct ynode *n, void *dst) {
        return p_mask(c, n, dst, disk_class_from_string, "disk class", "ssd, nvme, hdd");
}

static int p_transports(struct conv *c, const struct ynode *n, void *dst) {
        return p_mask(c, n, dst, transport_from_string, "transport", "nvme, sata, sas, usb, virtio, scsi");
}

#define DEFINE_ENUM_PARSER(fn, type, from, what, choices)                                  \
        static int fn(struct conv *c, const struct ynode *n, void *dst) {                  \
                const char *s;                                                             \
                if (scalar(c, n, &s) < 0)                                                  \
                        return -EINVAL;                                                    \
                int v = from(s);                                                           \
                if (v < 0) {                                                               \
                        ERR(c, n, "unknown %s '%s' (one of: %s)", what, s, choices);       \
                        return -EINVAL;                                                    \
                }                                                                          \
                *(type *) dst = (type) v;                                                  \
                return 0;                                                                  \
        }

DEFINE_ENUM_PARSER(p_fs, enum fs_type, fs_type_from_string, "filesystem", "ext4, xfs, vfat, swap, none")
DEFINE_ENUM_PARSER(p_part_type, enum part_type, part_type_from_string, "partition type",
                   "esp, bios-boot, root, var, srv, home, tmp, swap, linux")
DEFINE_ENUM_PARSER(p_bond_mode, enum bond_mode, bond_mode_from_string, "bond mode",
                   "balance-rr, active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb")
DEFINE_ENUM_PARSER(p_lacp_rate, enum lacp_rate, lacp_rate_from_string, "LACP rate", "slow, fast")
DEFINE_ENUM_PARSER(p_xmit_hash, enum xmit_hash, xmit_hash_from_string, "transmit hash policy",
                   "layer2, layer2+3, layer3+4, encap2+3, encap3+4")
DEFINE_ENUM_PARSER(p_service_source, enum service_source, service_source_from_string, "service source",
                   "distro, apt, oci")

static int service_fetch_from_string(const char *s) {
        return streq(s, "build") ? SERVICE_FETCH_BUILD : streq(s, "firstboot") ? SERVICE_FETCH_FIRSTBOOT : -EINVAL;
}
DEFINE_ENUM_PARSER(p_service_fetch, enum service_fetch, service_fetch_from_string, "fetch time", "build, firstboot")

static int p_bool(struct conv *c, const struct ynode *n, void *dst) {
        const char *s;
        if (plain_scalar(c, n, "a boolean", &s) < 0)
                return -EINVAL;
        /* YAML 1.2's core schema, which 1.1 agrees with; yes/no/on/off never reach here (the loader
         * refuses them, as the two versions disagree on them). */
        if (streq(s, "true") || streq(s, "True") || streq(s, "TRUE"))
                *(bool *) dst = true;
        else if (streq(s, "false") || streq(s, "False") || streq(s, "FALSE"))
                *(bool *) dst = false;
        else {
                ERR(c, n, "'%s' is not a boolean (true or false)", s);
                return -EINVAL;
        }
        return 0;
}

static int p_speed(struct conv *c, const struct ynode *n, void *dst) {
        const char *s;
        if (scalar(c, n, &s) < 0)
                return -EINVAL;
        /* Link speeds in the seed's words: 1G, 10G, 25G, 100M. Decimal, as Ethernet means them. */
        uint64_t v;
        size_t len = strlen(s);
        uint64_t mult = 0;
        if (len > 1 && s[len - 1] == 'G')
                mult = 1000;
        else if (len > 1 && s[len - 1] == 'M')
                mult = 1;
        _cleanup_free_ char *num = mult ? strndup(s, len - 1) : NULL;
        if (!mult || !num || parse_uint64(num, &v) < 0 || v == 0 || v > 1000000) {
                ERR(c, n, "'%s' is not a link speed; write e.g. 1G, 10G, 100M", s);
                return -EINVAL;
        }
        *(uint32_t *) dst = (uint32_t) (v * mult);
        return 0;
}

static int p_u32_field(struct conv *c, const struct ynode *n, uint32_t min, uint32_t max, uint32_t *dst,
                       const char *what) {
        const char *s;
        if (plain_scalar(c, n, "a number", &s) < 0)
                return -EINVAL;
        if (parse_uint32_range(s, min, max, dst) < 0) {
                ERR(c, n, "%s '%s' is out of range %" PRIu32 "..%" PRIu32, what, s, min, max);
                return -EINVAL;
        }
        return 0;
}

static int p_miimon(struct conv *c, const struct ynode *n, void *dst) {
        return p_u32_field(c, n, 0, 60000, dst, "miimon");
}

static int p_mtu(struct conv *c, const struct ynode *n, void *dst) {
        return p_u32_field(c, n, 576, 9216, dst, "MTU");
}

static int p_vlan_id(struct conv *c, const struct ynode *n, uint16_t *ret) {
        uint32_t v;
        const char *s;
        if (plain_scalar(c, n, "a VLAN id", &s) < 0)
                return -EINVAL;
        if (parse_uint32_range(s, 1, 4094, &v) < 0) {
                ERR(c, n, "VLAN id '%s' is outside 1..4094", s);
                return -EINVAL;
        }
        *ret = (uint16_t) v;
        return 0;
}

/* "N%" with 1 <= N <= max: 1 and *ret; 0 if s is no percentage; -ERANGE if N is out of range. */
static int parse_percent(const char *s, uint32_t max, uint32_t *ret) {
        size_t len = strlen(s);
        if (len < 2 || s[len - 1] != '%')
                return 0;
        _cleanup_free_ char *num = strndup(s, len - 1);
        if (!num)
                return -ENOMEM;
        uint32_t v;
        if (parse_uint32_range(num, 1, max, &v) < 0)
                return -ERANGE;
        *ret = v;
        return 1;
}

/* ---- profile ------------------------------------------------------------------------------------ */

/* How size_or_percent names what it refuses: "<share> '25%' is outside 1%..<max>%<of>" and
 * "'x' is not a <size>; write <forms>". */
struct amount_words {
        uint32_t max;
        const char *share, *of, *size, *forms;
};

/* A size or a percentage (1..max): *ret_size or *ret_percent, and the other 0. */
static int size_or_percent(struct conv *c, const struct ynode *n, const char *s, const struct amount_words *w,
                           uint64_t *ret_size, unsigned *ret_percent) {
        uint32_t pct;
        int r = parse_percent(s, w->max, &pct);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                ERR(c, n, "%s '%s' is outside 1%%..%" PRIu32 "%%%s", w->share, s, w->max, w->of);
                return -EINVAL;
        }
        uint64_t v = 0;
        if (r == 0 && (parse_size(s, &v) < 0 || v == 0)) {
                ERR(c, n, "'%s' is not a %s; write %s", s, w->size, w->forms);
                return -EINVAL;
        }
        *ret_size = v;
        *ret_percent = r > 0 ? pct : 0;
        return 0;
}

static int p_part_size(struct conv *c, const struct ynode *n, void *dst) {
        struct partition_spec *p = (struct partition_spec *) ((char *) dst - offsetof(struct partition_spec, size));
        const char *s;
        if (scalar(c, n, &s) < 0)
                return -EINVAL;
        if (streq(s, "grow")) {
                p->grow = true;
                return 0;
        }
        static const struct amount_words words = {
                100, "percentage", "", "partition size", "a size (512M, 50G), a percentage (20%) or 'grow'"
        };
        return size_or_percent(c, n, s, &words, &p->size, &p->percent);
}

static int p_mount(struct conv *c, const struct ynode *n, void *dst) {
        const char *s;
        if (scalar(c, n, &s) < 0)
                return -EINVAL;
        if (s[0] != '/' || strstr(s, "//") || strstr(s, "/../") || endswith(s, "/..") ||
            (strlen(s) > 1 && endswith(s, "/"))) {
                ERR(c, n, "mount point '%s' must be an absolute, normalised path", s);
                return -EINVAL;
        }
        return p_string(c, n, dst);
}

/* A list of objects (disks, partitions, ports, services): a new array of n->n elements of `size`
 * bytes, each first a copy of init (zeros for NULL), its src (at src_offset) the item's, then parsed
 * with fields. Returned (in *ret and *ret_n) even when an element has errors, so that every error
 * is reported and the caller frees what was parsed; *ret stays NULL when nothing was allocated. */
static int parse_object_list(struct conv *c, const struct ynode *n, const struct field *fields, size_t n_fields,
                             size_t size, size_t src_offset, const void *init, const char *what, void **ret,
                             size_t *ret_n) {
        if (expect_type(c, n, YNODE_SEQ) < 0)
                return -EINVAL;
        char *items = calloc(n->n ? n->n : 1, size);
        if (!items)
                return -ENOMEM;
        *ret = items;
        *ret_n = n->n;
        int ret_r = 0;
        for (size_t i = 0; i < n->n; i++) {
                char *item = items + i * size;
                if (init)
                        memcpy(item, init, size);
                src_from((struct src *) (item + src_offset), n->items[i]);
                int r = parse_fields(c, n->items[i], fields, n_fields, item, what);
                if (r < 0)
                        ret_r = r;
        }
        return ret_r;
}

/* p_NAME: a list of TYPE objects (parse_object_list with FIELDS, each first a copy of INIT) into
 * the MEMBER array of the OWNER struct, and its count into n_MEMBER. */
#define DEFINE_OBJECT_LIST_PARSER(name, owner, member, type, fields, init, what)                                     \
        static int name(struct conv *c, const struct ynode *n, void *dst) {                                          \
                owner *o = (owner *) ((char *) dst - offsetof(owner, member));                                        \
                void *items = NULL;                                                                                   \
                int r = parse_object_list(c, n, fields, ELEMENTSOF(fields), sizeof(type), offsetof(type, src), init,  \
                                          what, &items, &o->n_##member);                                              \
                if (items)                                                                                            \
                        o->member = items;                                                                            \
                return r;                                                                                             \
        }

static const struct field partition_fields[] = {
        { "name", p_string, offsetof(struct partition_spec, name), true },
        { "type", p_part_type, offsetof(struct partition_spec, type), false },
        { "size", p_part_size, offsetof(struct partition_spec, size), true },
        { "max-size", p_size, offsetof(struct partition_spec, max_size), false },
        { "fs", p_fs, offsetof(struct partition_spec, fs), false },
        { "mount", p_mount, offsetof(struct partition_spec, mount), false },
        { "options", p_string, offsetof(struct partition_spec, options), false },
        { "label", p_string, offsetof(struct partition_spec, label), false },
};

static const struct partition_spec partition_init = { .type = _PART_TYPE_MAX, .fs = _FS_MAX };
/* Replaces, not appends: inheritance already merged the lists by name. */
DEFINE_OBJECT_LIST_PARSER(partition_list, struct disk_spec, parts, struct partition_spec, partition_fields,
                          &partition_init, "a partition")

static int p_partitions(struct conv *c, const struct ynode *n, void *dst) {
        struct disk_spec *disk = (struct disk_spec *) ((char *) dst - offsetof(struct disk_spec, parts));
        int ret = partition_list(c, n, dst);
        for (size_t i = 0; disk->parts && i < disk->n_parts; i++) {
                struct partition_spec *p = &disk->parts[i];
                if (p->type == _PART_TYPE_MAX)
                        p->type = part_type_for_mount(p->mount);
                if (p->fs == _FS_MAX)
                        p->fs = p->type == PART_ESP ? FS_VFAT :
                                p->type == PART_BIOS_BOOT ? FS_NONE :
                                p->type == PART_SWAP ? FS_SWAP :
                                p->type == PART_ROOT ? FS_EXT4 : FS_XFS;
        }
        return ret;
}

static const struct field disk_fields[] = {
        { "name", p_string, offsetof(struct disk_spec, name), true },
        { "class", p_classes, offsetof(struct disk_spec, classes), true },
        { "transport", p_transports, offsetof(struct disk_spec, transports), false },
        { "min-size", p_size, offsetof(struct disk_spec, min_size), true },
        { "count", p_unsigned, offsetof(struct disk_spec, count), false },
        { "os", p_bool, offsetof(struct disk_spec, os), false },
        { "partitions", p_partitions, offsetof(struct disk_spec, parts), true },
};

static const struct disk_spec disk_init = { .count = 1 };
DEFINE_OBJECT_LIST_PARSER(p_disks, struct profile, disks, struct disk_spec, disk_fields, &disk_init, "a disk")

static const struct field bond_fields[] = {
        { "name", p_string, offsetof(struct bond_spec, name), false },
        { "mode", p_bond_mode, offsetof(struct bond_spec, mode), false },
        { "miimon", p_miimon, offsetof(struct bond_spec, miimon), false },
        { "lacp-rate", p_lacp_rate, offsetof(struct bond_spec, lacp_rate), false },
        { "xmit-hash-policy", p_xmit_hash, offsetof(struct bond_spec, xmit_hash_policy), false },
        { "members", p_unsigned, offsetof(struct bond_spec, members), false },
        { "speed", p_speed, offsetof(struct bond_spec, speed_mbps), false },
        { "mtu", p_mtu, offsetof(struct bond_spec, mtu), false },
};

static int p_bond(struct conv *c, const struct ynode *n, void *dst) {
        struct bond_spec *b = dst;
        src_from(&b->src, n);
        return parse_fields(c, n, bond_fields, ELEMENTSOF(bond_fields), b, "the bond");
}

static int p_vlan_list(struct conv *c, const struct ynode *n, void *dst) {
        struct profile *pr = (struct profile *) ((char *) dst - offsetof(struct profile, vlans));
        if (expect_type(c, n, YNODE_SEQ) < 0)
                return -EINVAL;
        uint16_t *v = calloc(n->n ? n->n : 1, sizeof(uint16_t));
        if (!v)
                return -ENOMEM;
        free(pr->vlans);
        pr->vlans = v;
        pr->n_vlans = 0;
        int ret = 0;
        for (size_t i = 0; i < n->n; i++) {
                uint16_t id;
                if (p_vlan_id(c, n->items[i], &id) < 0) {
                        ret = -EINVAL;
                        continue;
                }
                bool dup = false;
                for (size_t j = 0; j < pr->n_vlans; j++)
                        dup = dup || v[j] == id;
                if (dup) {
                        ERR(c, n->items[i], "VLAN %u listed twice", id);
                        ret = -EINVAL;
                        continue;
                }
                v[pr->n_vlans++] = id;
        }
        return ret;
}

static const struct field network_fields[] = {
        { "bond", p_bond, offsetof(struct profile, bond), false },
        { "vlans", p_vlan_list, offsetof(struct profile, vlans), false },
};

static int p_network(struct conv *c, const struct ynode *n, void *dst) {
        struct profile *pr = (struct profile *) ((char *) dst - offsetof(struct profile, bond));
        return parse_fields(c, n, network_fields, ELEMENTSOF(network_fields), pr, "network");
}

static const struct field hardware_fields[] = {
        { "cores", p_unsigned, offsetof(struct profile, cores), true },
        { "ram", p_size, offsetof(struct profile, ram), true },
};

static int p_hardware(struct conv *c, const struct ynode *n, void *dst) {
        struct profile *pr = (struct profile *) ((char *) dst - offsetof(struct profile, cores));
        return parse_fields(c, n, hardware_fields, ELEMENTSOF(hardware_fields), pr, "hardware");
}

static int parse_port_range(const char *s, uint16_t *ret_from, uint16_t *ret_to) {
        const char *dash = strchr(s, '-');
        uint32_t a, b;
        if (dash) {
                _cleanup_free_ char *first = strndup(s, dash - s);
                if (!first)
                        return -ENOMEM;
                if (parse_uint32_range(first, 1, 65535, &a) < 0 || parse_uint32_range(dash + 1, 1, 65535, &b) < 0 ||
                    b < a)
                        return -EINVAL;
        } else {
                if (parse_uint32_range(s, 1, 65535, &a) < 0)
                        return -EINVAL;
                b = a;
        }
        *ret_from = (uint16_t) a;
        *ret_to = (uint16_t) b;
        return 0;
}

static int p_port_number(struct conv *c, const struct ynode *n, void *dst) {
        struct port_spec *p = (struct port_spec *) ((char *) dst - offsetof(struct port_spec, port));
        const char *s;
        if (scalar(c, n, &s) < 0)
                return -EINVAL;
        if (parse_port_range(s, &p->port, &p->port_end) < 0) {
                ERR(c, n, "'%s' is not a port or a port range in 1..65535", s);
                return -EINVAL;
        }
        return 0;
}

static int proto_from_string(const char *s) {
        return streq(s, "tcp") ? PROTO_TCP : streq(s, "udp") ? PROTO_UDP : -EINVAL;
}

static int p_protos(struct conv *c, const struct ynode *n, void *dst) {
        return p_mask(c, n, dst, proto_from_string, "protocol", "tcp, udp");
}

static const struct field port_fields[] = {
        { "port", p_port_number, offsetof(struct port_spec, port), true },
        { "proto", p_protos, offsetof(struct port_spec, protos), true },
        { "service", p_string, offsetof(struct port_spec, service), true },
};

DEFINE_OBJECT_LIST_PARSER(p_ports, struct profile, ports, struct port_spec, port_fields, NULL, "a port")

static int p_service_ports(struct conv *c, const struct ynode *n, void *dst) {
        struct service_spec *s = (struct service_spec *) ((char *) dst - offsetof(struct service_spec, ports));
        if (expect_type(c, n, YNODE_SEQ) < 0)
                return -EINVAL;
        s->ports = calloc(n->n ? n->n : 1, sizeof(uint16_t));
        if (!s->ports)
                return -ENOMEM;
        int ret = 0;
        for (size_t i = 0; i < n->n; i++) {
                uint32_t v;
                if (p_u32_field(c, n->items[i], 1, 65535, &v, "port") < 0) {
                        ret = -EINVAL;
                        continue;
                }
                s->ports[s->n_ports++] = (uint16_t) v;
        }
        return ret;
}

/* An OpenPGP v4 fingerprint, as gpg prints it: 40 hex digits, spaces allowed between groups.
 * Stored without spaces, upper case. A short or long key ID is not a fingerprint: it can be forged. */
static int p_fingerprint(struct conv *c, const struct ynode *n, void *dst) {
        const char *s;
        if (scalar(c, n, &s) < 0)
                return -EINVAL;
        _cleanup_free_ char *fp = NULL;
        int r = openpgp_fingerprint_normalize(s, &fp);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                ERR(c, n, "'%s' is not an OpenPGP fingerprint (40 hex digits, e.g. "
                    "\"4D64 390C ... 7A63 B7FA\" as `gpg --show-keys` prints it; a key ID is not enough)", s);
                return -EINVAL;
        }
        *(char **) dst = TAKE_PTR(fp);
        return 0;
}

/* "sha256:<64 lower-case hex>": the manifest digest an OCI tag must resolve to. */
static int p_digest(struct conv *c, const struct ynode *n, void *dst) {
        const char *s;
        if (scalar(c, n, &s) < 0)
                return -EINVAL;
        if (!oci_digest_valid(s)) {
                ERR(c, n, "'%s' is not an image digest (sha256: and 64 lower-case hex digits)", s);
                return -EINVAL;
        }
        char *v = strdup(s);
        if (!v)
                return -ENOMEM;
        *(char **) dst = v;
        return 0;
}

/* "2G" or "25%": what the service needs of the host's RAM. */
static int p_service_memory(struct conv *c, const struct ynode *n, void *dst) {
        struct service_spec *sv = (struct service_spec *) ((char *) dst - offsetof(struct service_spec, memory));
        const char *s;
        if (scalar(c, n, &s) < 0)
                return -EINVAL;
        static const struct amount_words words = {
                90, "memory share", " of the host's RAM", "memory size", "a size (512M, 4G) or a share of the RAM (25%)"
        };
        return size_or_percent(c, n, s, &words, &sv->memory, &sv->memory_percent);
}

const char *const service_need_kinds[] = { "postgresql", "mysql", "redis", "smtp", "ldap", "oidc", "route", "backup", NULL };

/* needs: [postgresql, redis, …]: each a kind another role provides. */
static int p_service_needs(struct conv *c, const struct ynode *n, void *dst) {
        return strv_of(c, n, dst, service_need_kinds, "need", "postgresql, mysql, redis, smtp, ldap, oidc, route, backup");
}

static const struct field service_fields[] = {
        { "name", p_string, offsetof(struct service_spec, name), true },
        { "description", p_string, offsetof(struct service_spec, description), false },
        { "source", p_service_source, offsetof(struct service_spec, source), true },
        { "fetch", p_service_fetch, offsetof(struct service_spec, fetch), false },
        { "packages", p_strv, offsetof(struct service_spec, packages), false },
        { "unit", p_string, offsetof(struct service_spec, unit), false },
        { "repo", p_string, offsetof(struct service_spec, repo), false },
        { "key-url", p_string, offsetof(struct service_spec, key_url), false },
        { "key-fingerprint", p_fingerprint, offsetof(struct service_spec, key_fingerprint), false },
        { "image", p_string, offsetof(struct service_spec, image), false },
        { "digest", p_digest, offsetof(struct service_spec, digest), false },
        { "version", p_string, offsetof(struct service_spec, version), false },
        { "ports", p_service_ports, offsetof(struct service_spec, ports), false },
        { "bases", p_strv, offsetof(struct service_spec, bases), false },
        { "memory", p_service_memory, offsetof(struct service_spec, memory), false },
        { "needs", p_service_needs, offsetof(struct service_spec, needs), false },
};

DEFINE_OBJECT_LIST_PARSER(p_services, struct profile, services, struct service_spec, service_fields, NULL,
                          "a service")

/* ---- debconf selections --------------------------------------------------------------------------- */

/* debconf's types as debconf-set-selections knows them, less "password" (refused below). */
const char *const debconf_types[] = { "select", "multiselect", "string", "boolean", "note", "text", "title", "error", NULL };

/* A Debian package name (Policy 5.6.1): what owns a question. */
static bool debconf_owner_valid(const char *s, size_t n) {
        if (n < 2 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || strchr("+-.", s[i])))
                        return false;
        return true;
}

/* The next space-separated field of *p: its start and length, *p after the spaces that follow it. */
static size_t next_field(const char **p, const char **ret_start) {
        const char *s = *p + strspn(*p, " ");
        size_t n = strcspn(s, " ");
        *ret_start = s;
        *p = s + n + strspn(s + n, " ");
        return n;
}

int debconf_line_parse(const char *line, char **ret, const char **ret_error) {
        const char *p = line, *owner, *question, *type;
        size_t no = next_field(&p, &owner), nq = next_field(&p, &question), nt = next_field(&p, &type);
        const char *value = p;
        /* the loader refuses control characters in every value already; a line from anywhere
         * else is held to the same rule, as debconf-set-selections reads one selection a line */
        for (const char *c = line; *c; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f) {
                        *ret_error = "a control character: a selection is one line, fields separated by spaces";
                        return -EINVAL;
                }
        if (!no || !nq || !nt || !*value) {
                *ret_error = "a debconf selection is four fields, OWNER QUESTION TYPE VALUE "
                             "(e.g. \"roundcube-core roundcube/database-type select sqlite3\")";
                return -EINVAL;
        }
        if (!debconf_owner_valid(owner, no)) {
                *ret_error = "the owner (first field) must be a package name: lower-case letters, digits, '+', '-', '.'";
                return -EINVAL;
        }
        if (!memchr(question, '/', nq) || question[0] == '/' || question[nq - 1] == '/') {
                *ret_error = "the question (second field) is a debconf template name, OWNER/NAME "
                             "(e.g. roundcube/database-type)";
                return -EINVAL;
        }
        if (nt == strlen("password") && strneq(type, "password", nt)) {
                *ret_error = "type 'password' is refused: secrets never go into an image (images are shared and "
                             "signed); give them on first boot, from the site's secrets or the kickstart";
                return -EPERM;
        }
        bool known = false;
        for (const char *const *t = debconf_types; *t && !known; t++)
                known = nt == strlen(*t) && strneq(type, *t, nt);
        if (!known) {
                *ret_error = "unknown debconf type (one of: select, multiselect, string, boolean, note, text, title, error)";
                return -EINVAL;
        }
        size_t nv = strlen(value);
        while (nv > 0 && value[nv - 1] == ' ')
                nv--;
        /* debconf-set-selections joins a line that ends in a backslash with the next */
        if (value[nv - 1] == '\\') {
                *ret_error = "the value ends in a backslash, which debconf-set-selections reads as 'continued on the "
                             "next line'";
                return -EINVAL;
        }
        if (nt == strlen("boolean") && strneq(type, "boolean", nt) && !(nv == 4 && strneq(value, "true", 4)) &&
            !(nv == 5 && strneq(value, "false", 5))) {
                *ret_error = "a boolean's value is true or false";
                return -EINVAL;
        }
        char *s = strprintf("%.*s %.*s %.*s %.*s", (int) no, owner, (int) nq, question, (int) nt, type, (int) nv, value);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* The question of a parsed (normalised) line: its second field, as far as the next space. */
static bool same_question(const char *a, const char *b) {
        a = strchr(a, ' ') + 1;
        b = strchr(b, ' ') + 1;
        size_t n = strcspn(a, " ");
        return n == strcspn(b, " ") && strneq(a, b, n);
}

/* debconf: ["OWNER QUESTION TYPE VALUE", …]: answers given to debconf before the role's packages
 * are installed. A question answered twice keeps the later answer, in the earlier one's place, as
 * debconf-set-selections would: a role answers again what the profile it inherits answered (the
 * inherited list comes first), and the image's resolved profile, which holds both lines, loads to
 * the same selections. */
static int p_debconf(struct conv *c, const struct ynode *n, void *dst) {
        char ***l = dst;
        if (expect_type(c, n, YNODE_SEQ) < 0)
                return -EINVAL;
        int ret = 0;
        for (size_t i = 0; i < n->n; i++) {
                const char *s, *why = NULL;
                char *line = NULL;
                if (scalar(c, n->items[i], &s) < 0) {
                        ret = -EINVAL;
                        continue;
                }
                int r = debconf_line_parse(s, &line, &why);
                if (r == -ENOMEM)
                        return r;
                if (r == -EPERM) {
                        /* the line without its value: a diagnostic does not repeat a secret */
                        const char *q = s + strspn(s, " ");
                        q += strcspn(q, " ");
                        q += strspn(q, " ");
                        q += strcspn(q, " ");
                        ERR(c, n->items[i], "'%.*s password …': %s", (int) (q - s), s, why);
                        ret = -EINVAL;
                        continue;
                }
                if (r < 0) {
                        ERR(c, n->items[i], "'%s': %s", s, why);
                        ret = -EINVAL;
                        continue;
                }
                size_t k, have = strv_length(*l);
                for (k = 0; k < have && !same_question((*l)[k], line); k++)
                        ;
                if (k < have) {
                        free((*l)[k]);
                        (*l)[k] = line;
                } else if (strv_push(l, line) < 0)
                        return -ENOMEM;
        }
        return ret;
}

static int p_role(struct conv *c, const struct ynode *n, void *dst) {
        const char *s;
        if (scalar(c, n, &s) < 0)
                return -EINVAL;
        for (size_t i = 0; i < n_role_names; i++)
                if (streq(role_names[i], s))
                        return p_string(c, n, dst);
        err_unknown(c, n, "role", s, role_names, "id, db, app, comm, voip, biz, erp, it, infra");
        return -EINVAL;
}

static const struct field profile_fields[] = {
        { "inherits", NULL, 0, false },
        { "role", p_role, offsetof(struct profile, role), true },
        { "description", p_string, offsetof(struct profile, description), false },
        { "hardware", p_hardware, offsetof(struct profile, cores), true },
        { "disks", p_disks, offsetof(struct profile, disks), true },
        { "network", p_network, offsetof(struct profile, bond), true },
        { "packages", p_strv, offsetof(struct profile, packages), false },
        { "debconf", p_debconf, offsetof(struct profile, debconf), false },
        { "services", p_services, offsetof(struct profile, services), false },
        { "ports", p_ports, offsetof(struct profile, ports), false },
};

/* ---- profile validation ------------------------------------------------------------------------- */

#define ERRS(d, s, ...) diag_error((d), (s).file, (s).line, (s).col, __VA_ARGS__)

/* "deb [signed-by=/usr/share/keyrings/x.gpg] URL SUITE [COMPONENT...]": the key is pinned per source,
 * never trusted for every repository (apt-key is gone). */
static bool service_repo_valid(const char *repo) {
        if (!startswith(repo, "deb [signed-by=/usr/share/keyrings/"))
                return false;
        const char *close = strchr(repo, ']');
        if (!close || close[1] != ' ')
                return false;
        _cleanup_strv_free_ char **w = NULL;
        if (strv_split(close + 2, " ", &w) < 0 || strv_length(w) < 2)
                return false;
        return startswith(w[0], "https://") || startswith(w[0], "http://");
}

/* registry/path/name:tag or …@sha256:…, with the registry spelled out: podman's short-name
 * resolution would otherwise depend on the host's registries.conf. */
static bool oci_reference_valid(const char *ref) {
        const char *slash = strchr(ref, '/');
        if (!slash || slash == ref || strchr(ref, ' '))
                return false;
        _cleanup_free_ char *registry = strndup(ref, (size_t) (slash - ref));
        if (!registry || (!strchr(registry, '.') && !strchr(registry, ':') && !streq(registry, "localhost")))
                return false;
        const char *at = strchr(slash, '@');
        if (at)
                return startswith(at, "@sha256:") && strlen(at) == 8 + 64;
        const char *colon = strrchr(slash, ':');
        return colon && colon[1] && !strchr(colon, '/');
}

static void validate_disk(const struct disk_spec *disk, struct diags *d) {
        unsigned grow = 0, percent = 0;
        uint64_t fixed = 0;
        bool has_root = false;
        if (disk->n_parts == 0)
                ERRS(d, disk->src, "disk '%s' has no partitions", strna(disk->name));
        for (size_t i = 0; i < disk->n_parts; i++) {
                const struct partition_spec *p = &disk->parts[i];
                if (p->grow)
                        grow++;
                percent += p->percent;
                fixed += p->size;
                has_root = has_root || p->type == PART_ROOT;
                for (size_t j = 0; j < i; j++)
                        if (p->name && disk->parts[j].name && streq(p->name, disk->parts[j].name))
                                ERRS(d, p->src, "partition name '%s' used twice on disk '%s'", p->name,
                                     strna(disk->name));
                if (p->type == PART_ESP && p->fs != FS_VFAT)
                        ERRS(d, p->src, "an EFI system partition must be vfat");
                if (p->type == PART_BIOS_BOOT && (p->fs != FS_NONE || p->mount))
                        ERRS(d, p->src, "a BIOS boot partition holds no filesystem and no mount point");
                if (p->fs == FS_NONE && p->mount)
                        ERRS(d, p->src, "partition '%s' has a mount point but no filesystem", strna(p->name));
                if (p->fs != FS_NONE && p->fs != FS_SWAP && !p->mount)
                        ERRS(d, p->src, "partition '%s' has a filesystem but no mount point", strna(p->name));
                if (p->max_size && !p->grow && !p->percent)
                        ERRS(d, p->src, "max-size applies only to a 'grow' or percentage size");
                if (p->type == PART_ROOT && i + 1 != disk->n_parts)
                        ERRS(d, p->src, "the root partition must be the last on its disk, so it can grow");
        }
        if (grow > 1)
                ERRS(d, disk->src, "disk '%s' has %u partitions with size 'grow'; at most one may grow",
                     strna(disk->name), grow);
        if (percent > 100)
                ERRS(d, disk->src, "disk '%s': percentages add up to %u%%", strna(disk->name), percent);
        /* 1 MiB at the front for alignment and 1 MiB at the end for the backup GPT. */
        uint64_t need = fixed + 2 * MiB + (disk->min_size / 100) * percent + (grow ? MiB : 0);
        if (disk->min_size && need > disk->min_size) {
                _cleanup_free_ char *a = format_size_human(need), *b = format_size_human(disk->min_size);
                ERRS(d, disk->src, "the layout of disk '%s' needs %s, more than its class's minimum %s",
                     strna(disk->name), strna(a), strna(b));
        }
        if (disk->os && !has_root)
                ERRS(d, disk->src, "the OS disk '%s' has no root partition", strna(disk->name));
        if (!disk->os && has_root)
                ERRS(d, disk->src, "disk '%s' holds a root partition but is not the OS disk", strna(disk->name));
        if (disk->os && disk->count != 1)
                ERRS(d, disk->src, "the OS disk has count %u; the image is written to one disk", disk->count);
}

static void validate_profile(const struct profile *p, struct diags *d, const struct ynode *root) {
        unsigned n_os = 0;
        for (size_t i = 0; i < p->n_disks; i++) {
                const struct disk_spec *disk = &p->disks[i];
                validate_disk(disk, d);
                n_os += disk->os;
                for (size_t j = 0; j < i; j++)
                        if (disk->name && p->disks[j].name && streq(disk->name, p->disks[j].name))
                                ERRS(d, disk->src, "disk name '%s' used twice", disk->name);
                for (size_t k = 0; k < disk->n_parts; k++) {
                        const struct partition_spec *a = &disk->parts[k];
                        if (!a->mount)
                                continue;
                        /* Duplicate mount points across every disk of the role. */
                        for (size_t j = 0; j <= i; j++)
                                for (size_t l = 0; l < (j == i ? k : p->disks[j].n_parts); l++) {
                                        const struct partition_spec *b = &p->disks[j].parts[l];
                                        if (b->mount && streq(a->mount, b->mount))
                                                ERRS(d, a->src, "mount point '%s' is used twice (also at %s:%u)",
                                                     a->mount, b->src.file, b->src.line);
                                }
                }
        }
        if (p->n_disks > 0 && n_os != 1)
                diag_error(d, root->file, root->line, root->col, "the role needs exactly one OS disk (os: true), has %u",
                           n_os);

        if (p->bond.members == 0 && p->bond.name)
                ERRS(d, p->bond.src, "the bond needs at least one member");
        if (p->bond.name && (strlen(p->bond.name) > 15 || strchr(p->bond.name, '/') || strchr(p->bond.name, ' ')))
                ERRS(d, p->bond.src, "'%s' is not a valid interface name", p->bond.name);

        for (size_t i = 0; i < p->n_ports; i++)
                for (size_t j = 0; j < i; j++) {
                        const struct port_spec *a = &p->ports[i], *b = &p->ports[j];
                        if ((a->protos & b->protos) && a->port <= b->port_end && b->port <= a->port_end)
                                ERRS(d, a->src, "port %u overlaps the entry at line %u", a->port, b->src.line);
                }

        unsigned percent = 0;
        for (size_t i = 0; i < p->n_services; i++) {
                const struct service_spec *s = &p->services[i];
                switch (s->source) {
                case SERVICE_SOURCE_DISTRO:
                        if (strv_length(s->packages) == 0)
                                ERRS(d, s->src, "service '%s' comes from the distribution but names no packages",
                                     strna(s->name));
                        if (s->repo || s->key_url || s->key_fingerprint || s->image || s->digest)
                                ERRS(d, s->src, "service '%s' comes from the distribution; repo, key-url, "
                                     "key-fingerprint, image and digest are for source apt or oci", strna(s->name));
                        break;
                case SERVICE_SOURCE_APT:
                        if (!s->repo || !s->key_url || !s->key_fingerprint || strv_length(s->packages) == 0)
                                ERRS(d, s->src, "service '%s' from a vendor apt repository needs repo, key-url, "
                                     "key-fingerprint and packages (a key URL alone is not trust)",
                                     strna(s->name));
                        else if (!service_repo_valid(s->repo))
                                ERRS(d, s->src, "service '%s': repo must be a one-line source, "
                                     "\"deb [signed-by=/usr/share/keyrings/NAME.gpg] URL SUITE [COMPONENT...]\"",
                                     strna(s->name));
                        else if (!startswith(s->key_url, "https://") && !startswith(s->key_url, "http://"))
                                ERRS(d, s->src, "service '%s': key-url '%s' is not an http(s) URL", strna(s->name),
                                     s->key_url);
                        if (s->image || s->digest)
                                ERRS(d, s->src, "service '%s' comes from an apt repository; image and digest are for "
                                     "source oci", strna(s->name));
                        break;
                case SERVICE_SOURCE_OCI:
                        if (!s->image)
                                ERRS(d, s->src, "service '%s' runs an OCI image but names no image", strna(s->name));
                        else if (!oci_reference_valid(s->image))
                                ERRS(d, s->src, "service '%s': image '%s' must name its registry and a tag or digest "
                                     "(docker.io/library/traefik:v2.11)", strna(s->name), s->image);
                        if (!s->unit)
                                ERRS(d, s->src, "service '%s' runs an OCI image but names no unit to run it",
                                     strna(s->name));
                        else if (s->digest && strchr(s->image, '@'))
                                ERRS(d, s->src, "service '%s': the image names its digest twice (in image and digest); "
                                     "keep image as registry/path:tag and the digest in digest", strna(s->name));
                        if (s->packages || s->repo || s->key_url || s->key_fingerprint)
                                ERRS(d, s->src, "service '%s' runs an OCI image; packages, repo, key-url and "
                                     "key-fingerprint are for source distro or apt", strna(s->name));
                        break;
                default:
                        break;
                }
                percent += s->memory_percent;
                for (size_t j = 0; j < i; j++)
                        if (s->name && p->services[j].name && streq(s->name, p->services[j].name))
                                ERRS(d, s->src, "service '%s' declared twice", s->name);
        }
        if (percent > 90 && p->n_services > 0)
                ERRS(d, p->services[0].src, "the services set aside %u%% of the RAM; at most 90%% may be", percent);
}

/* ---- loading and inheritance -------------------------------------------------------------------- */

static int load_resolved(const char *dir, const char *path, char ***chain, struct diags *d, struct ynode **ret) {
        _cleanup_(ynode_freep) struct ynode *tree = NULL;
        int r = yaml_load_file(path, d, &tree);
        if (r < 0)
                return r;

        if (strv_length(*chain) >= 16) {
                diag_error(d, path, 0, 0, "inheritance deeper than 16 levels");
                return -ELOOP;
        }
        if (strv_extend(chain, path) < 0)
                return -ENOMEM;

        const struct ynode *inh = ynode_get(tree, "inherits");
        if (!inh) {
                *ret = TAKE_PTR(tree);
                return 0;
        }
        if (inh->type != YNODE_SCALAR || isempty(inh->scalar) || strchr(inh->scalar, '/')) {
                diag_error(d, inh->file, inh->line, inh->col, "'inherits' takes the name of a profile in the same directory");
                return -EINVAL;
        }
        _cleanup_free_ char *parent = strprintf("%s/%s.yaml", dir, inh->scalar);
        if (!parent)
                return -ENOMEM;
        if (strv_contains(*chain, parent)) {
                _cleanup_free_ char *cycle = strv_join(*chain, " -> ");
                diag_error(d, inh->file, inh->line, inh->col, "inheritance cycle: %s -> %s", strna(cycle), parent);
                return -ELOOP;
        }
        if (access(parent, F_OK) < 0) {
                diag_error(d, inh->file, inh->line, inh->col, "inherited profile '%s' not found (%s)", inh->scalar,
                           parent);
                return -ENOENT;
        }
        _cleanup_(ynode_freep) struct ynode *base = NULL;
        r = load_resolved(dir, parent, chain, d, &base);
        if (r < 0)
                return r;
        struct ynode *merged = ynode_merge(base, tree);
        if (!merged)
                return -ENOMEM;
        *ret = merged;
        return 0;
}

static int profile_from_tree(struct ynode *tree, char **chain, struct diags *d, struct profile **ret) {
        struct profile *p = calloc(1, sizeof *p);
        if (!p) {
                ynode_free(tree);
                strv_free(chain);
                return -ENOMEM;
        }
        p->tree = tree;
        p->chain = chain;
        p->bond = (struct bond_spec) {
                .mode = BOND_MODE_ACTIVE_BACKUP, .miimon = 100, .lacp_rate = LACP_RATE_SLOW,
                .xmit_hash_policy = XMIT_HASH_LAYER2, .members = 0,
        };

        /* A file that no one told its role is only a base to inherit from. */
        struct conv c = { .d = d, .abstract = !ynode_get(tree, "role") && !ynode_get(tree, "inherits") };
        size_t before = d->n_errors;
        (void) parse_fields(&c, tree, profile_fields, ELEMENTSOF(profile_fields), p, "a profile");
        if (d->n_errors == before)
                validate_profile(p, d, tree);
        if (d->n_errors > before || d->oom) {
                profile_free(p);
                return -EINVAL;
        }
        *ret = p;
        return 0;
}

int profile_load_file(const char *path, struct diags *d, struct profile **ret) {
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        const char *dir = dirname(copy);
        char **chain = NULL;
        struct ynode *tree = NULL;
        int r = load_resolved(dir, path, &chain, d, &tree);
        if (r < 0) {
                strv_free(chain);
                return r;
        }
        return profile_from_tree(tree, chain, d, ret);
}

int profile_load(const char *dir, const char *role, struct diags *d, struct profile **ret) {
        if (!role || strchr(role, '/') || isempty(role)) {
                diag_error(d, dir, 0, 0, "'%s' is not a role name", strna(role));
                return -EINVAL;
        }
        _cleanup_free_ char *path = strprintf("%s/%s.yaml", dir, role);
        if (!path)
                return -ENOMEM;
        if (access(path, F_OK) < 0) {
                const char *hint = closest_match(role, role_names);
                if (hint)
                        diag_error(d, path, 0, 0, "no profile for role '%s'; did you mean '%s'?", role, hint);
                else
                        diag_error(d, path, 0, 0, "no profile for role '%s'", role);
                return -ENOENT;
        }
        return profile_load_file(path, d, ret);
}

int profile_load_buffer(const char *name, const char *data, size_t size, struct diags *d, struct profile **ret) {
        struct ynode *tree = NULL;
        int r = yaml_load_buffer(name, data, size, d, &tree);
        if (r < 0)
                return r;
        return profile_from_tree(tree, NULL, d, ret);
}

static void partition_done(struct partition_spec *p) {
        free(p->name);
        free(p->mount);
        free(p->options);
        free(p->label);
}

struct profile *profile_free(struct profile *p) {
        if (!p)
                return NULL;
        free(p->role);
        free(p->description);
        for (size_t i = 0; i < p->n_disks; i++) {
                for (size_t j = 0; j < p->disks[i].n_parts; j++)
                        partition_done(&p->disks[i].parts[j]);
                free(p->disks[i].parts);
                free(p->disks[i].name);
        }
        free(p->disks);
        free(p->bond.name);
        free(p->vlans);
        strv_free(p->packages);
        strv_free(p->debconf);
        for (size_t i = 0; i < p->n_services; i++) {
                struct service_spec *s = &p->services[i];
                free(s->name);
                free(s->description);
                strv_free(s->packages);
                free(s->unit);
                free(s->repo);
                free(s->key_url);
                free(s->key_fingerprint);
                free(s->image);
                free(s->digest);
                free(s->version);
                free(s->ports);
                strv_free(s->bases);
                strv_free(s->needs);
        }
        free(p->services);
        for (size_t i = 0; i < p->n_ports; i++)
                free(p->ports[i].service);
        free(p->ports);
        ynode_free(p->tree);
        strv_free(p->chain);
        free(p);
        return NULL;
}

const struct service_spec *profile_find_service(const struct profile *p, const char *name) {
        for (size_t i = 0; p && name && i < p->n_services; i++)
                if (p->services[i].name && streq(p->services[i].name, name))
                        return &p->services[i];
        return NULL;
}

const struct disk_spec *profile_os_disk(const struct profile *p) {
        for (size_t i = 0; i < p->n_disks; i++)
                if (p->disks[i].os)
                        return &p->disks[i];
        return NULL;
}
