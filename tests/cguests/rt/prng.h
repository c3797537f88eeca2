/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A small, seeded pseudo-random generator (SplitMix64: one 64-bit state, a Weyl sequence and a
 * mixing function), so a run is replayed exactly from its seed. Where the seed comes from:
 * rt_seed() (params.h).
 */
#ifndef RT_PRNG_H
#define RT_PRNG_H

#include <stdint.h>

struct prng {
    uint64_t state;
};

static inline void prng_seed(struct prng *p, uint64_t seed) { p->state = seed; }

static inline uint64_t prng_next(struct prng *p)
{
    uint64_t z = (p->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) for n > 0 (rejection sampling: no modulo bias). */
static inline uint64_t prng_below(struct prng *p, uint64_t n)
{
    uint64_t limit = -n % n; /* 2^64 mod n */
    uint64_t r;
    do
        r = prng_next(p);
    while (r < limit);
    return r % n;
}

#endif
