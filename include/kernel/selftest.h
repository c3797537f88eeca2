/* SPDX-License-Identifier: BSD-2-Clause */
/* selftest=NAME: deliberately trigger one of mhv's diagnostic paths (for tests). */
#ifndef MHV_KERNEL_SELFTEST_H
#define MHV_KERNEL_SELFTEST_H

/* Runs the named self-test; each one ends in a panic report, so this does not return. */
__attribute__((noreturn)) void selftest_run(const char *name);

#endif
