/* SPDX-License-Identifier: BSD-2-Clause */
// sources: vm/config.c kernel/log.c lib/format.c
/* libFuzzer target for the VM configuration parser (run for a bounded time by make test):
 * any input must parse without a sanitizer report, and whatever the parser accepts as a valid
 * VM must satisfy what vm/boot.c relies on. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernel/log.h"
#include "vm/config.h"

extern bool stub_console_up;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vm_config vms[CONFIG_MAX_VMS];
    stub_console_up = false; /* the log ring still takes every line */
    unsigned n = config_parse("fuzz.cfg", (const char *)data, size, vms, CONFIG_MAX_VMS);
    if (n > CONFIG_MAX_VMS)
        __builtin_trap();
    for (unsigned i = 0; i < n; i++) {
        const struct vm_config *v = &vms[i];
        if (!v->valid)
            continue;
        if (!v->name[0] || !v->kernel[0] || v->vcpus < 1 || v->vcpus > CONFIG_MAX_VCPUS || !v->affinity ||
            v->memory < (1u << 20) || v->weight < 1 || v->weight > 100 ||
            strnlen(v->cmdline, sizeof(v->cmdline)) == sizeof(v->cmdline))
            __builtin_trap();
    }
    return 0;
}
