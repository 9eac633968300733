/* SPDX-License-Identifier: MIT */
#include <elf.h>
#include <string.h>

#include "cleanup.h"
#include "elf-deps.h"
#include "util.h"

void elf_deps_done(struct elf_deps *d) {
        free(d->interp);
        strv_free(d->needed);
        *d = (struct elf_deps) {};
}

static bool range_ok(size_t size, uint64_t off, uint64_t len) {
        return off <= size && len <= size - off;
}

/* A NUL-terminated string inside [off, size). */
static char *string_at(const unsigned char *p, size_t size, uint64_t off) {
        if (off >= size)
                return NULL;
        const unsigned char *end = memchr(p + off, 0, size - off);
        if (!end)
                return NULL;
        return strndup((const char *) p + off, end - (p + off));
}

/* DT_STRTAB holds a virtual address: map it to a file offset through the PT_LOAD segments. */
static int vaddr_to_offset(const unsigned char *p, size_t size, const Elf64_Ehdr *eh, uint64_t vaddr,
                           uint64_t *ret) {
        for (unsigned i = 0; i < eh->e_phnum; i++) {
                Elf64_Phdr ph;
                memcpy(&ph, p + eh->e_phoff + (uint64_t) i * eh->e_phentsize, sizeof ph);
                if (ph.p_type != PT_LOAD || vaddr < ph.p_vaddr || vaddr - ph.p_vaddr >= ph.p_filesz)
                        continue;
                uint64_t off = ph.p_offset + (vaddr - ph.p_vaddr);
                if (off < ph.p_offset || off >= size)
                        return -EBADMSG;
                *ret = off;
                return 0;
        }
        return -EBADMSG;
}

int elf_deps_parse(const void *data, size_t size, struct elf_deps *ret) {
        const unsigned char *p = data;
        Elf64_Ehdr eh;
        if (size < EI_NIDENT || memcmp(p, ELFMAG, SELFMAG) != 0)
                return -EBADMSG;
        if (p[EI_CLASS] != ELFCLASS64 || p[EI_DATA] != ELFDATA2LSB)
                return -EPROTONOSUPPORT;
        if (size < sizeof eh)
                return -EBADMSG;
        memcpy(&eh, p, sizeof eh);
        if (eh.e_phentsize < sizeof(Elf64_Phdr) || !range_ok(size, eh.e_phoff, (uint64_t) eh.e_phnum * eh.e_phentsize))
                return -EBADMSG;

        _cleanup_free_ char *interp = NULL;
        uint64_t dyn_off = 0, dyn_size = 0;
        bool have_dyn = false;
        for (unsigned i = 0; i < eh.e_phnum; i++) {
                Elf64_Phdr ph;
                memcpy(&ph, p + eh.e_phoff + (uint64_t) i * eh.e_phentsize, sizeof ph);
                if (!range_ok(size, ph.p_offset, ph.p_filesz))
                        continue; /* segments past the end (e.g. .bss-only) carry nothing we read */
                if (ph.p_type == PT_INTERP && !interp) {
                        if (ph.p_filesz == 0)
                                return -EBADMSG;
                        interp = strndup((const char *) p + ph.p_offset, ph.p_filesz);
                        if (!interp)
                                return -ENOMEM;
                        if (isempty(interp))
                                return -EBADMSG;
                } else if (ph.p_type == PT_DYNAMIC && !have_dyn) {
                        dyn_off = ph.p_offset;
                        dyn_size = ph.p_filesz;
                        have_dyn = true;
                }
        }

        _cleanup_strv_free_ char **needed = calloc(1, sizeof(char *));
        if (!needed)
                return -ENOMEM;
        if (have_dyn) {
                uint64_t strtab = 0;
                bool have_strtab = false;
                size_t n = dyn_size / sizeof(Elf64_Dyn);
                for (size_t i = 0; i < n; i++) {
                        Elf64_Dyn d;
                        memcpy(&d, p + dyn_off + i * sizeof d, sizeof d);
                        if (d.d_tag == DT_NULL)
                                break;
                        if (d.d_tag == DT_STRTAB) {
                                strtab = d.d_un.d_ptr;
                                have_strtab = true;
                        }
                }
                uint64_t strtab_off = 0;
                for (size_t i = 0; i < n; i++) {
                        Elf64_Dyn d;
                        memcpy(&d, p + dyn_off + i * sizeof d, sizeof d);
                        if (d.d_tag == DT_NULL)
                                break;
                        if (d.d_tag != DT_NEEDED)
                                continue;
                        if (!have_strtab)
                                return -EBADMSG;
                        if (strtab_off == 0) {
                                int r = vaddr_to_offset(p, size, &eh, strtab, &strtab_off);
                                if (r < 0)
                                        return r;
                        }
                        if (d.d_un.d_val > size - strtab_off)
                                return -EBADMSG;
                        char *s = string_at(p, size, strtab_off + d.d_un.d_val);
                        if (!s)
                                return -EBADMSG;
                        if (isempty(s) || strchr(s, '/')) {
                                /* A path in DT_NEEDED is legal but never used by what we ship;
                                 * refuse rather than guess where it points. */
                                free(s);
                                return -EBADMSG;
                        }
                        int r = strv_push(&needed, s);
                        if (r < 0)
                                return r;
                }
        }
        *ret = (struct elf_deps) { .interp = TAKE_PTR(interp), .needed = TAKE_PTR(needed) };
        return 0;
}
