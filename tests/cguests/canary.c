/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The canary next to hostile guests: proves they left mhv and the other VMs alone. It works for
 * arg1 ms of TSC time (default 3000), keeping values in registers and memory that it checks all
 * the time, prints a progress line every 250 ms, and checks at the end that its state stayed
 * intact and that it never waited longer than MAX_STALL_MS between two looks at the clock (a
 * hostile VM that could hold a CPU, or stop mhv's scheduler, would show here). Exits 0.
 */
#include "rt.h"

MHV_GUEST(.name = "canary", .memory_mib = 4);

#define MAX_STALL_MS 1000
#define CELLS 512

static uint64_t cells[CELLS];

void guest_main(void)
{
    uint64_t run_ms = rt_arg(1) ? rt_arg(1) : 3000;
    uint64_t start = rdtsc(), end = start + us_to_tsc(run_ms * 1000), next_report = start + us_to_tsc(250000);
    uint64_t last = start, longest = 0, work = 0, broken = 0, reports = 0;
    uint64_t a = 0x0123456789abcdefull, b = ~a;
    for (unsigned i = 0; i < CELLS; i++)
        cells[i] = i * 0x9e3779b97f4a7c15ull;
    for (;;) {
        /* Registers and memory keep what the loop put there. */
        unsigned i = (unsigned)(work % CELLS);
        broken += (a ^ b) != ~0ull;
        broken += cells[i] != (work / CELLS) + i * 0x9e3779b97f4a7c15ull;
        cells[i]++;
        a = (a << 1) | (a >> 63);
        b = ~a;
        work++;
        uint64_t now = rdtsc();
        if (now - last > longest)
            longest = now - last;
        last = now;
        if ((int64_t)(now - next_report) >= 0) {
            printf("# progress %lu: %lu units of work, longest wait %lu us\n", ++reports, work, tsc_to_us(longest));
            next_report += us_to_tsc(250000);
        }
        if ((int64_t)(now - end) >= 0)
            break;
    }
    check(broken == 0, "the canary's registers and memory stayed intact over %lu units of work", work);
    check(tsc_to_us(longest) < MAX_STALL_MS * 1000ull, "the canary never waited %d ms or more for a CPU (longest %lu us)",
          MAX_STALL_MS, tsc_to_us(longest));
    check(reports >= run_ms / 250 - 1, "the canary reported progress %lu times in %lu ms", reports, run_ms);
}
