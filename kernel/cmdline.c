/* SPDX-License-Identifier: BSD-2-Clause */
/* Command line tokenizer and table-driven option dispatch (see include/kernel/cmdline.h). */
#include "kernel/cmdline.h"

#include "kernel/log.h"
#include "lib/string.h"

#define KEY_MAX 32

int cmdline_parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return -1;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = *s - 'a' + 10;
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = *s - 'A' + 10;
        else
            return -1;
        if (v > (UINT64_MAX - d) / base)
            return -1;
        v = v * base + d;
    }
    *out = v;
    return 0;
}

static const struct cmdline_option *find_option(const char *key, const struct cmdline_option *options,
                                                size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (!strcmp(options[i].name, key))
            return &options[i];
    return NULL;
}

/* Copies one word starting at *p into key/value; returns false at the end of the line.
 * Over-long keys and values are reported through *too_long. */
static bool next_word(const char **p, char *key, char *value, bool *has_value, bool *too_long)
{
    const char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s)
        return false;
    size_t k = 0, v = 0;
    bool quoted = false;
    *has_value = false;
    *too_long = false;
    for (; *s && (quoted || (*s != ' ' && *s != '\t')); s++) {
        if (!*has_value && *s == '=') {
            *has_value = true;
            continue;
        }
        if (*has_value && *s == '"') {
            quoted = !quoted;
            continue;
        }
        if (!*has_value) {
            if (k + 1 < KEY_MAX) key[k++] = *s; else *too_long = true;
        } else {
            if (v + 1 < CMDLINE_VALUE_MAX) value[v++] = *s; else *too_long = true;
        }
    }
    key[k] = '\0';
    value[v] = '\0';
    *p = s;
    return true;
}

int cmdline_parse(const char *cmdline, const struct cmdline_option *options, size_t count)
{
    int rejected = 0;
    char key[KEY_MAX], value[CMDLINE_VALUE_MAX], why[96];
    bool has_value, too_long;
    const char *p = cmdline;
    bool first = true;

    while (next_word(&p, key, value, &has_value, &too_long)) {
        /* Some loaders put the kernel's own path first; it is not an option. */
        if (first && key[0] == '/' && !has_value) {
            first = false;
            continue;
        }
        first = false;
        if (too_long) {
            log_warn("cmdline: '%s%s%s...' is too long; ignored", key, has_value ? "=" : "", value);
            rejected++;
            continue;
        }
        const struct cmdline_option *opt = find_option(key, options, count);
        if (!opt) {
            log_warn("cmdline: unknown option '%s'; ignored", key);
            rejected++;
            continue;
        }
        why[0] = '\0';
        if (opt->parse(has_value ? value : NULL, why, sizeof(why)) < 0) {
            log_warn("cmdline: %s%s%s: %s; ignored", key, has_value ? "=" : "", value, why);
            rejected++;
        }
    }
    return rejected;
}
