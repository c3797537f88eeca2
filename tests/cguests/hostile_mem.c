/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hostile guest: memory outside the VM's RAM. One access per run, chosen by arg0 (0 read,
 * 1 write, 2 execute, 3 a 16-byte SSE read, 4 a REP MOVSB read) at guest-physical arg1 (default
 * 0x10000000, 256 MiB, beyond this VM's 8 MiB and below the devices). mhv stops the VM with a
 * report (README "VM stops": status 254, "vm <name>: vCPU 0: read of guest-physical ...");
 * a guest that gets past the access says so and exits 1. arg0 5 puts the IDT in the I/O
 * APIC's MMIO page and then stores to a non-canonical address: the #GP's delivery reads the
 * IDT from the device, which is the CPU's access, not the store's, so mhv must not perform
 * the store on the device; it stops the VM ("event delivery through device memory").
 * bochs_chostile runs the variants next to the canary.
 */
#include "rt.h"

MHV_GUEST(.name = "hostile_mem", .memory_mib = 8);

static void execute(void *addr)
{
    ((void (*)(void))addr)();
}

void guest_main(void)
{
    uint64_t op = rt_arg(0), addr = rt_arg(1) ? rt_arg(1) : 0x10000000;
    static const char *const names[] = { "read", "write", "execute", "SSE read", "REP MOVSB read", "IDT" };
    if (op > 5) {
        check(false, "arg0 %lu names an access (0-5)", op);
        return;
    }
    printf("# %s at guest-physical 0x%lx\n", names[op], op == 5 ? (uint64_t)0xfec00000 : addr);
    uint64_t v = 0;
    int vec = -1;
    uint8_t buf[16] __attribute__((aligned(16)));
    switch (op) {
    case 0: vec = try_read64(addr, &v); break;
    case 1: vec = try_write64(addr, 0x5752); break;
    case 2: vec = try_call(execute, (void *)(uintptr_t)addr); break;
    case 3: vec = TRY_ASM("movdqu (%0), %%xmm0", : : "r"(addr) : "memory"); break;
    case 4: {
        uint64_t n = 16;
        void *dst = buf;
        vec = TRY_ASM("rep movsb", : "+D"(dst), "+S"(addr), "+c"(n) : : "memory");
        break;
    }
    case 5: {
        struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = { 0xfff, 0xfec00000 };
        __asm__ volatile("cli\n\tlidt %0\n\tmovq $0x5752, (%1)" : : "m"(idtr), "r"(1ull << 63) : "memory");
        break;
    }
    }
    check(false, "the %s at 0x%lx stopped the VM (it went on: %s%s)", names[op], rt_arg(1) ? rt_arg(1) : 0x10000000,
          vec < 0 ? "no fault" : "raised ", vec < 0 ? "" : exception_name((unsigned)vec));
}
