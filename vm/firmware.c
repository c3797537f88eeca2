/*
 * What a VM finds where a PC has its BIOS (include/vm/platform.h): mhv is the VMs' firmware,
 * and the only firmware code a guest ever runs is the reset-vector stub of
 * vm/firmware_stub.asm, which acts on the CMOS shutdown status byte after a reset (resume
 * through 40:67, or a boot). It is written into guest memory at every start, and again before
 * every reset that resumes (vm/reset.c), so a guest that scribbled over the BIOS area still
 * finds it there:
 *
 *   F000:E05B (0xfe05b)  the stub, at the PC BIOS's POST entry
 *   F000:FFF0 (0xffff0)  the reset vector: JMP FAR F000:E05B, where a processor starts after
 *                        RESET or INIT (SDM Vol. 3A 9.1.4: CS selector 0xF000, base 0xF0000,
 *                        IP 0xFFF0); FFFF:0000 is the same byte, the address DOS-era software
 *                        jumps to for a reboot
 *   F000:FFFE (0xffffe)  the PC's model byte, 0xFC (AT)
 *
 * The loaders mark 0x9fc00-0xfffff reserved in the memory maps they hand over, as a PC's BIOS
 * does for its ROM; the ACPI tables (0xe0000) lie below the stub.
 */
#include <stdbool.h>
#include <stdint.h>

#include "vm/platform.h"
#include "vm/vm.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"

#define POST_ENTRY_SEGMENT 0xf000
#define POST_ENTRY_OFFSET 0xe05b
#define POST_ENTRY (((uint64_t)POST_ENTRY_SEGMENT << 4) + POST_ENTRY_OFFSET)
#define RESET_VECTOR 0xffff0ull
#define MODEL_BYTE 0xffffeull
#define MODEL_AT 0xfc

extern const uint8_t firmware_stub[], firmware_stub_end[];

_Static_assert(POST_ENTRY < RESET_VECTOR, "the stub lies below the reset vector");
_Static_assert(PLATFORM_ACPI_BASE + PLATFORM_ACPI_SIZE <= POST_ENTRY, "the ACPI tables lie below the stub");

void firmware_write(struct vm *vm)
{
    const uint8_t jump[5] = { 0xea, POST_ENTRY_OFFSET & 0xff, POST_ENTRY_OFFSET >> 8, POST_ENTRY_SEGMENT & 0xff,
                              POST_ENTRY_SEGMENT >> 8 }; /* JMP FAR ptr16:16 */
    const uint8_t model = MODEL_AT;
    vm_write_gpa(vm, POST_ENTRY, firmware_stub, (uint64_t)(firmware_stub_end - firmware_stub));
    vm_write_gpa(vm, RESET_VECTOR, jump, sizeof(jump));
    vm_write_gpa(vm, MODEL_BYTE, &model, 1);
}

bool firmware_running(struct vcpu *v)
{
    return vmcs_readnat(v, VMCS_GUEST_CS_BASE) == (uint64_t)POST_ENTRY_SEGMENT << 4;
}
