/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What a test tells a guest at run time. mhv gives guest images no command line, so the values
 * live in the image: the parameter block after the header (header.h), which
 * tests/cguests/mkvariant patches into a copy of a built image (seed=, arg0= ... arg5=).
 */
#ifndef RT_PARAMS_H
#define RT_PARAMS_H

#include <stdint.h>

#include "header.h"

/* The PRNG seed: the image's seed field when set; else "seed=N" on the fw_cfg command line
 * (empty for mhv images today); else the TSC at the first call. The same value every call;
 * rt_seed_source() says which ("image", "fw_cfg", "tsc"). Print it, so a run can be replayed. */
uint64_t rt_seed(void);
const char *rt_seed_source(void);
/* Guest-defined argument i (0-5) of the parameter block. */
uint64_t rt_arg(unsigned i);
/* The image's header as loaded, possibly patched: read fields through this, not rt_header,
 * which the compiler may fold to MHV_GUEST()'s values in the guest's own file. */
const struct rt_header *rt_image_header(void);
/* The fw_cfg command line (QEMU's interface at 0x510, README "The virtual platform") into buf;
 * returns its length. */
unsigned fw_cfg_cmdline(char *buf, unsigned size);

#endif
