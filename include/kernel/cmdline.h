/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Kernel command line: space-separated "key=value" or "key" words; a value may be quoted
 * ("key=\"a b\""). Each key is looked up in a table of options; each option parses its own
 * value. Unknown keys and bad values are reported and skipped, never fatal: a typo on the
 * command line must not keep a machine from booting.
 */
#ifndef MHV_KERNEL_CMDLINE_H
#define MHV_KERNEL_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CMDLINE_VALUE_MAX 128

struct cmdline_option {
    const char *name;
    /* Parses value (NULL for a bare "key"). Returns 0, or -1 after filling `why`. */
    int (*parse)(const char *value, char *why, size_t why_size);
};

/* Returns how many words were rejected (unknown key or bad value). */
int cmdline_parse(const char *cmdline, const struct cmdline_option *options, size_t count);

/* Helpers for option parsers. Return 0 or -1. */
int cmdline_parse_u64(const char *s, uint64_t *out); /* decimal or 0x hex, no overflow */

#endif
