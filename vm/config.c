/* SPDX-License-Identifier: BSD-2-Clause */
/* VM configuration parser (see include/vm/config.h). Line by line; each value is checked for
 * its key's type and range before it is stored. */
#include "vm/config.h"

#include "kernel/log.h"
#include "lib/format.h"
#include "lib/string.h"

/* Room for `cmdline = "..."` with a command line of CONFIG_CMDLINE_MAX characters, escaped. */
#define LINE_MAX_LEN 4096
#define MEMORY_MAX (1ull << 40)
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

struct parser {
    const char *file;
    unsigned line;
    struct vm_config *vm; /* the section being filled, NULL before the first [vm] */
};

/* Reports and invalidates the current VM. */
static void problem(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct parser *p, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_err("%s:%u: %s", p->file, p->line, msg);
    if (p->vm)
        p->vm->valid = false;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }
static bool is_key_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

/* Number with an optional unit: K, M, G (x 1024^n). Decimal or 0x hex. */
static int parse_number(const char *s, uint64_t *out, bool allow_unit, const char **why)
{
    uint64_t v = 0;
    unsigned base = 10, digits = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        base = 16, s += 2;
    for (;; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9') d = *s - '0';
        else if (base == 16 && *s >= 'a' && *s <= 'f') d = *s - 'a' + 10;
        else if (base == 16 && *s >= 'A' && *s <= 'F') d = *s - 'A' + 10;
        else break;
        if (v > (UINT64_MAX - d) / base) {
            *why = "number too large";
            return -1;
        }
        v = v * base + d;
        digits++;
    }
    if (!digits) {
        *why = "expected a number";
        return -1;
    }
    if (*s && allow_unit) {
        unsigned shift = *s == 'K' || *s == 'k' ? 10 : *s == 'M' || *s == 'm' ? 20 : *s == 'G' || *s == 'g' ? 30 : 0;
        if (!shift || s[1]) {
            *why = "unknown unit (use K, M or G)";
            return -1;
        }
        if (v > (UINT64_MAX >> shift)) {
            *why = "number too large";
            return -1;
        }
        v <<= shift;
        s++;
    }
    if (*s) {
        *why = "unexpected characters after the number";
        return -1;
    }
    *out = v;
    return 0;
}

static const char string_too_long[] = "string too long";

/* A "quoted string" (escapes \" \\ \n) into out; returns -1 when malformed or too long. */
static int parse_string(const char *s, char *out, size_t size, const char **why)
{
    if (*s != '"') {
        *why = "expected a \"quoted string\"";
        return -1;
    }
    size_t n = 0;
    for (s++; *s && *s != '"'; s++) {
        char c = *s;
        if (c == '\\') {
            c = *++s;
            if (c == 'n') c = '\n';
            else if (c != '"' && c != '\\') {
                *why = "unknown escape in string";
                return -1;
            }
        }
        if (n + 1 >= size) {
            *why = string_too_long;
            return -1;
        }
        out[n++] = c;
    }
    if (*s != '"' || s[1]) {
        *why = *s != '"' ? "unterminated string" : "unexpected characters after the string";
        return -1;
    }
    out[n] = '\0';
    return 0;
}

/* CPUs: a list [0, 2] or a string "0-3,5". */
static int parse_cpus(const char *s, uint64_t *mask, const char **why)
{
    char buf[128];
    if (*s == '[') {
        size_t n = strlen(s);
        if (n < 2 || s[n - 1] != ']' || n - 2 >= sizeof(buf)) {
            *why = "expected a list [0, 1] or a string \"0-3\"";
            return -1;
        }
        memcpy(buf, s + 1, n - 2);
        buf[n - 2] = '\0';
    } else if (parse_string(s, buf, sizeof(buf), why) < 0) {
        return -1;
    }
    uint64_t m = 0;
    const char *c = buf;
    while (*c) {
        while (is_space(*c)) c++;
        uint64_t lo = 0, hi;
        unsigned digits = 0;
        while (*c >= '0' && *c <= '9' && lo < 1000) lo = lo * 10 + (*c++ - '0'), digits++;
        hi = lo;
        if (*c == '-') {
            c++;
            hi = 0;
            while (*c >= '0' && *c <= '9' && hi < 1000) hi = hi * 10 + (*c++ - '0'), digits++;
        }
        while (is_space(*c)) c++;
        if (!digits || hi < lo || hi > 63 || (*c && *c != ',')) {
            *why = "CPUs must be numbers or ranges from 0 to 63, separated by commas";
            return -1;
        }
        for (uint64_t i = lo; i <= hi; i++)
            m |= 1ull << i;
        if (*c == ',')
            c++;
    }
    if (!m) {
        *why = "an empty CPU set";
        return -1;
    }
    *mask = m;
    return 0;
}

static int parse_bool(const char *s, bool *out, const char **why)
{
    if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "1")) { *out = true; return 0; }
    if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "0")) { *out = false; return 0; }
    *why = "expected true or false";
    return -1;
}

static int parse_choice(const char *s, const char *const *names, unsigned count, unsigned *out, const char **why,
                        const char *expected)
{
    char buf[32];
    if (parse_string(s, buf, sizeof(buf), why) < 0) {
        /* bare words are accepted too: type = linux */
        if (strlen(s) >= sizeof(buf))
            return -1;
        memcpy(buf, s, strlen(s) + 1);
    }
    for (unsigned i = 0; i < count; i++) {
        if (!strcmp(buf, names[i])) {
            *out = i;
            return 0;
        }
    }
    *why = expected;
    return -1;
}

static const char *const type_names[] = { "mhv", "raw16", "raw32", "raw64", "multiboot", "linux" };
static const char *const action_names[] = { "stop", "restart", "poweroff" };
static const char *const unclaimed_names[] = { "ignore", "stop" };

const char *guest_type_name(enum guest_type type)
{
    return (unsigned)type < 6 ? type_names[type] : "?";
}

/* One "key = value" for the current VM. */
static void set_key(struct parser *p, const char *key, const char *value)
{
    struct vm_config *vm = p->vm;
    const char *why = NULL;
    uint64_t n = 0;
    unsigned choice = 0;
    int rc = 0;
    if (!strcmp(key, "name")) {
        rc = parse_string(value, vm->name, sizeof(vm->name), &why);
        for (const char *c = vm->name; rc == 0 && *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' ||
                  *c == '_' || *c == '.'))
                rc = -1, why = "names use letters, digits, '-', '_' and '.'";
    } else if (!strcmp(key, "type")) {
        rc = parse_choice(value, type_names, 6, &choice, &why, "unknown type (mhv, raw16, raw32, raw64, multiboot, linux)");
        vm->type = (enum guest_type)choice;
    } else if (!strcmp(key, "kernel")) {
        rc = parse_string(value, vm->kernel, sizeof(vm->kernel), &why);
    } else if (!strcmp(key, "ramdisk")) {
        rc = parse_string(value, vm->ramdisk, sizeof(vm->ramdisk), &why);
    } else if (!strcmp(key, "cmdline")) {
        rc = parse_string(value, vm->cmdline, sizeof(vm->cmdline), &why);
        if (rc < 0 && why == string_too_long)
            why = "longer than " STRINGIFY(CONFIG_CMDLINE_MAX) " characters, the most Linux takes";
    } else if (!strcmp(key, "memory")) {
        /* A plain number is MiB, as in Xen's xl.cfg. */
        rc = parse_number(value, &n, true, &why);
        if (rc == 0 && value[strlen(value) - 1] >= '0' && value[strlen(value) - 1] <= '9')
            n = n > (MEMORY_MAX >> 20) ? MEMORY_MAX + 1 : n << 20;
        if (rc == 0 && (n < (1u << 20) || n > MEMORY_MAX))
            rc = -1, why = "memory must be between 1M and 1024G";
        vm->memory = n;
    } else if (!strcmp(key, "vcpus")) {
        rc = parse_number(value, &n, false, &why);
        if (rc == 0 && (n < 1 || n > CONFIG_MAX_VCPUS))
            rc = -1, why = "vcpus must be 1 to 64";
        vm->vcpus = (unsigned)n;
    } else if (!strcmp(key, "cpus")) {
        rc = parse_cpus(value, &vm->affinity, &why);
    } else if (!strcmp(key, "weight")) {
        rc = parse_number(value, &n, false, &why);
        if (rc == 0 && (n < 1 || n > 100))
            rc = -1, why = "weight must be 1 to 100";
        vm->weight = (unsigned)n;
    } else if (!strcmp(key, "slice")) {
        rc = parse_number(value, &n, false, &why);
        if (rc == 0 && (n < 100 || n > 1000000))
            rc = -1, why = "slice must be 100 to 1000000 microseconds";
        vm->slice_us = (unsigned)n;
    } else if (!strcmp(key, "entry") || !strcmp(key, "load")) {
        rc = parse_number(value, &n, false, &why);
        if (key[0] == 'e')
            vm->entry = n, vm->has_entry = rc == 0;
        else
            vm->load = n, vm->has_load = rc == 0;
    } else if (!strcmp(key, "on_poweroff") || !strcmp(key, "on_crash") || !strcmp(key, "on_reboot")) {
        rc = parse_choice(value, action_names, 3, &choice, &why, "expected stop, restart or poweroff");
        if (key[3] == 'p')
            vm->on_poweroff = (enum vm_action)choice;
        else if (key[3] == 'c')
            vm->on_crash = (enum vm_action)choice;
        else
            vm->on_reboot = (enum vm_action)choice;
    } else if (!strcmp(key, "console")) {
        rc = parse_bool(value, &vm->console, &why);
    } else if (!strcmp(key, "testdev")) {
        rc = parse_bool(value, &vm->testdev, &why);
    } else if (!strcmp(key, "hpet")) {
        rc = parse_bool(value, &vm->hpet, &why);
    } else if (!strcmp(key, "unclaimed")) {
        rc = parse_choice(value, unclaimed_names, 2, &choice, &why, "expected ignore or stop");
        vm->unclaimed_stop = choice == 1;
    } else if (!strcmp(key, "serial_ports")) {
        rc = parse_number(value, &n, false, &why);
        if (rc == 0 && (n < 1 || n > 4))
            rc = -1, why = "serial_ports must be 1 to 4 (COM1-COM4)";
        vm->serial_ports = (unsigned)n;
    } else {
        problem(p, "unknown key '%s'", key);
        return;
    }
    /* A long value (a command line) is shown by its start: the reason must fit the line. */
    if (rc < 0 && strlen(value) > 60)
        problem(p, "%s = %.40s...: %s", key, value, why);
    else if (rc < 0)
        problem(p, "%s = %s: %s", key, value, why);
}

static void start_vm(struct parser *p, struct vm_config *vm)
{
    memset(vm, 0, sizeof(*vm));
    vm->line = p->line;
    vm->valid = true;
    vm->type = GUEST_MHV;
    vm->memory = 16ull << 20;
    vm->vcpus = 1;
    vm->weight = 1;
    vm->affinity = ~0ull;
    vm->on_reboot = ACTION_RESTART; /* a guest that reboots expects to come back */
    vm->serial_ports = 1;
    vm->hpet = true;
    p->vm = vm;
}

/* Checks that need the whole section: what every VM must have, and what its type needs. */
static void finish_vm(struct parser *p)
{
    struct vm_config *vm = p->vm;
    if (!vm)
        return;
    unsigned line = p->line;
    p->line = vm->line;
    if (!vm->name[0])
        problem(p, "this VM has no name");
    if (!vm->kernel[0])
        problem(p, "VM '%s' has no kernel (a module name)", vm->name);
    bool raw = vm->type == GUEST_RAW16 || vm->type == GUEST_RAW32 || vm->type == GUEST_RAW64;
    if (raw && (!vm->has_entry || !vm->has_load))
        problem(p, "VM '%s': a %s image needs load and entry", vm->name, guest_type_name(vm->type));
    if (!raw && (vm->has_entry || vm->has_load))
        problem(p, "VM '%s': load and entry are for raw images only", vm->name);
    p->line = line;
}

unsigned config_parse(const char *file, const char *text, size_t len, struct vm_config *out, unsigned max)
{
    struct parser p = { .file = file };
    unsigned count = 0;
    bool skipping = false; /* inside a section past the VM limit */
    size_t pos = 0;
    while (pos < len) {
        char line[LINE_MAX_LEN];
        size_t n = 0;
        bool too_long = false;
        p.line++;
        for (; pos < len && text[pos] != '\n'; pos++) {
            if (n + 1 < sizeof(line)) line[n++] = text[pos];
            else too_long = true;
        }
        pos++; /* the newline */
        line[n] = '\0';
        if (too_long) {
            problem(&p, "line longer than %d characters", LINE_MAX_LEN - 1);
            continue;
        }
        /* Strip the comment (outside strings) and surrounding blanks. */
        bool quoted = false;
        for (size_t i = 0; i < n; i++) {
            if (line[i] == '"' && (i == 0 || line[i - 1] != '\\')) quoted = !quoted;
            if (line[i] == '#' && !quoted) { line[i] = '\0'; n = i; break; }
            if (line[i] == '\0') { problem(&p, "NUL byte in the file"); n = i; break; }
        }
        while (n && is_space(line[n - 1])) line[--n] = '\0';
        char *s = line;
        while (is_space(*s)) s++;
        if (!*s)
            continue;
        if (*s == '[') {
            finish_vm(&p);
            p.vm = NULL;
            if (strcmp(s, "[vm]")) {
                problem(&p, "unknown section %s (only [vm])", s);
                skipping = true;
                continue;
            }
            if (count == max) {
                problem(&p, "more than %u VMs; this one is ignored", max);
                skipping = true;
                continue;
            }
            skipping = false;
            start_vm(&p, &out[count++]);
            continue;
        }
        if (skipping)
            continue;
        if (!p.vm) {
            problem(&p, "'%s' before the first [vm] section", s);
            continue;
        }
        char *key = s;
        while (is_key_char(*s)) s++;
        char *key_end = s;
        while (is_space(*s)) s++;
        if (key == key_end || *s != '=') {
            problem(&p, "expected key = value");
            continue;
        }
        *key_end = '\0';
        s++;
        while (is_space(*s)) s++;
        if (!*s) {
            problem(&p, "%s has no value", key);
            continue;
        }
        set_key(&p, key, s);
    }
    finish_vm(&p);
    /* Names identify VMs (console prefixes, the shell later): the second use is an error. */
    for (unsigned j = 1; j < count; j++) {
        for (unsigned i = 0; i < j; i++) {
            if (out[j].name[0] && !strcmp(out[i].name, out[j].name)) {
                p.line = out[j].line;
                p.vm = &out[j];
                problem(&p, "a VM named '%s' already exists (line %u)", out[j].name, out[i].line);
                break;
            }
        }
    }
    return count;
}
