/* SPDX-License-Identifier: BSD-2-Clause */
/* TSC frequency (SDM Vol. 3B 19.17 "Time-Stamp Counter"; CPUID leaves 15H and 16H). */
#include "arch/x86/tsc.h"

#include <stdbool.h>

#include "arch/x86/cpu.h"
#include "drivers/pit.h"
#include "kernel/log.h"

uint64_t tsc_hz;

#define FALLBACK_HZ 1000000000ull

uint64_t tsc_ns_to_ticks(uint64_t ns)
{
    return ns / 1000 * tsc_hz / 1000000 + (ns % 1000) * tsc_hz / 1000000000;
}

uint64_t tsc_ticks_to_us(uint64_t ticks)
{
    return tsc_hz ? ticks / (tsc_hz / 1000000 ? tsc_hz / 1000000 : 1) : 0;
}

void tsc_delay_us(uint64_t us)
{
    uint64_t end = rdtsc() + tsc_us_to_ticks(us);
    while ((int64_t)(rdtsc() - end) < 0)
        cpu_relax();
}

static uint64_t pit_rate(void)
{
    /* The shortest of three 10 ms windows: an SMI or emulator hiccup only lengthens one. */
    uint64_t best = 0;
    for (int i = 0; i < 3; i++) {
        uint64_t t = pit_measure_tsc_ticks(10);
        if (t && (!best || t < best))
            best = t;
    }
    return best * 100;
}

static bool close_to(uint64_t a, uint64_t b)
{
    uint64_t d = a > b ? a - b : b - a;
    return d * 50 <= b; /* within 2% */
}

void tsc_init(void)
{
    const char *source;
    uint32_t max_leaf = cpuid(0, 0).eax;
    struct cpuid_regs r15 = max_leaf >= 0x15 ? cpuid(0x15, 0) : (struct cpuid_regs){ 0 };
    if (r15.eax && r15.ebx && r15.ecx) {
        /* Exact: crystal frequency times the TSC/crystal ratio. */
        tsc_hz = (uint64_t)r15.ecx * r15.ebx / r15.eax;
        source = "CPUID 0x15";
    } else {
        uint64_t nominal = max_leaf >= 0x16 ? (uint64_t)(cpuid(0x16, 0).eax & 0xffff) * 1000000 : 0;
        uint64_t measured = pit_rate();
        /* Leaf 0x16 is the nominal base frequency; emulators report one while their TSC
         * runs at another rate, so it is used only when the PIT agrees. */
        if (nominal && measured && close_to(nominal, measured)) {
            tsc_hz = nominal;
            source = "CPUID 0x16, PIT agrees";
        } else if (measured) {
            tsc_hz = measured;
            source = nominal ? "PIT calibration; CPUID 0x16 disagrees" : "PIT calibration";
        } else {
            tsc_hz = nominal ? nominal : FALLBACK_HZ;
            source = nominal ? "CPUID 0x16; no PIT to check it" : "guessed: no CPUID leaf and no PIT";
            log_warn("tsc: could not calibrate against the PIT");
        }
    }
    bool invariant = cpuid(0x80000000, 0).eax >= 0x80000007 && (cpuid(0x80000007, 0).edx & (1u << 8));
    log_info("tsc: %lu.%03lu MHz (%s)%s", tsc_hz / 1000000, tsc_hz / 1000 % 1000, source,
             invariant ? ", invariant" : "");
}
