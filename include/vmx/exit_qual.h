/* SPDX-License-Identifier: BSD-2-Clause */
/* Exit qualifications, decoded once into typed structs (SDM Vol. 3C 29.2.1 "Basic VM-Exit
 * Information", tables 29-2 to 29-7; 28.2.1 and tables 28-x in the editions that number the
 * VM-exit chapter 28). A handler decodes its reason's qualification at its start and works
 * with the fields; the bit positions are named here and nowhere else. Pure functions of the
 * raw value: the host unit tests check them (tests/unit/test_exit.c). */
#ifndef MHV_VMX_EXIT_QUAL_H
#define MHV_VMX_EXIT_QUAL_H

#include <stdbool.h>
#include <stdint.h>

/* --- Task switches (table 29-2) --- */
#define QUAL_TASK_SELECTOR 0xffffull        /* 15:0 the new TSS's selector */
#define QUAL_TASK_SOURCE_SHIFT 30           /* 31:30 what started it */
enum task_switch_source { TASK_FROM_CALL = 0, TASK_FROM_IRET = 1, TASK_FROM_JMP = 2, TASK_FROM_GATE = 3 };

struct exit_qual_task_switch {
    uint16_t selector;
    enum task_switch_source source; /* CALL, IRET, JMP, or a task gate in the IDT */
};

static inline struct exit_qual_task_switch exit_qual_task_switch(uint64_t q)
{
    return (struct exit_qual_task_switch){
        .selector = (uint16_t)(q & QUAL_TASK_SELECTOR),
        .source = (enum task_switch_source)((q >> QUAL_TASK_SOURCE_SHIFT) & 3),
    };
}

/* --- Control-register accesses (table 29-3) --- */
#define QUAL_CR_NUMBER 0xfull               /* 3:0 the control register (0, 3, 4 or 8) */
#define QUAL_CR_TYPE_SHIFT 4                /* 5:4 the access type */
#define QUAL_CR_LMSW_MEMORY (1ull << 6)     /* LMSW's operand was in memory (else a register) */
#define QUAL_CR_GPR_SHIFT 8                 /* 11:8 the general register of MOV CR */
#define QUAL_CR_LMSW_SOURCE_SHIFT 16        /* 31:16 LMSW's source operand */
enum cr_access_type { CR_MOV_TO = 0, CR_MOV_FROM = 1, CR_CLTS = 2, CR_LMSW = 3 };

struct exit_qual_cr {
    uint8_t cr;                 /* the control register */
    enum cr_access_type type;
    uint8_t gpr;                /* MOV CR: the general register (GPR_* order, 4 = RSP) */
    bool lmsw_memory;           /* LMSW: the operand came from memory */
    uint16_t lmsw_source;       /* LMSW: its operand (only bits 3:0 matter) */
};

static inline struct exit_qual_cr exit_qual_cr(uint64_t q)
{
    return (struct exit_qual_cr){
        .cr = (uint8_t)(q & QUAL_CR_NUMBER),
        .type = (enum cr_access_type)((q >> QUAL_CR_TYPE_SHIFT) & 3),
        .gpr = (uint8_t)((q >> QUAL_CR_GPR_SHIFT) & 15),
        .lmsw_memory = q & QUAL_CR_LMSW_MEMORY,
        .lmsw_source = (uint16_t)(q >> QUAL_CR_LMSW_SOURCE_SHIFT),
    };
}

/* --- I/O instructions (table 29-5) --- */
#define QUAL_IO_SIZE 7ull                   /* 2:0 the access size less one: 0, 1 or 3 */
#define QUAL_IO_IN (1ull << 3)              /* IN/INS (else OUT/OUTS) */
#define QUAL_IO_STRING (1ull << 4)          /* INS/OUTS */
#define QUAL_IO_REP (1ull << 5)             /* with a REP prefix */
#define QUAL_IO_IMMEDIATE (1ull << 6)       /* the port was an immediate (else DX) */
#define QUAL_IO_PORT_SHIFT 16               /* 31:16 the port */

struct exit_qual_io {
    uint16_t port;
    unsigned size;              /* bytes: 1, 2 or 4 */
    bool in, string, rep;
    bool immediate;             /* port operand encoding: an immediate, else DX */
};

static inline struct exit_qual_io exit_qual_io(uint64_t q)
{
    return (struct exit_qual_io){
        .port = (uint16_t)(q >> QUAL_IO_PORT_SHIFT),
        .size = (unsigned)(q & QUAL_IO_SIZE) + 1,
        .in = q & QUAL_IO_IN,
        .string = q & QUAL_IO_STRING,
        .rep = q & QUAL_IO_REP,
        .immediate = q & QUAL_IO_IMMEDIATE,
    };
}

/* --- APIC accesses (table 29-6) --- */
#define QUAL_APIC_OFFSET 0xfffull           /* 11:0 the offset in the APIC page (linear accesses) */
#define QUAL_APIC_TYPE_SHIFT 12             /* 15:12 the access type */
#define QUAL_APIC_ASYNC (1ull << 16)        /* asynchronous to instruction execution */
enum apic_access_type {
    APIC_LINEAR_READ = 0,           /* a data read by an instruction */
    APIC_LINEAR_WRITE = 1,          /* a data write by an instruction */
    APIC_LINEAR_FETCH = 2,          /* an instruction fetch */
    APIC_LINEAR_EVENT = 3,          /* during event delivery */
    APIC_PHYSICAL_EVENT = 10,       /* a guest-physical access during event delivery */
    APIC_PHYSICAL_INSTRUCTION = 15, /* a guest-physical access by a fetch or an instruction */
};

struct exit_qual_apic_access {
    uint16_t offset;            /* valid for the linear access types */
    enum apic_access_type type;
    bool data;                  /* a linear data read or write: an instruction mhv can perform */
    bool write;
};

static inline struct exit_qual_apic_access exit_qual_apic_access(uint64_t q)
{
    enum apic_access_type type = (enum apic_access_type)((q >> QUAL_APIC_TYPE_SHIFT) & 15);
    return (struct exit_qual_apic_access){
        .offset = (uint16_t)(q & QUAL_APIC_OFFSET),
        .type = type,
        .data = type == APIC_LINEAR_READ || type == APIC_LINEAR_WRITE,
        .write = type == APIC_LINEAR_WRITE,
    };
}

/* EOI-induced exits: the vector in bits 7:0; APIC-write exits: the offset in bits 11:0 (SDM
 * Vol. 3C 29.2.1, below table 29-6). */
#define QUAL_EOI_VECTOR 0xffull
#define QUAL_APIC_WRITE_OFFSET 0xfffull

/* --- EPT violations (table 29-7) --- */
#define QUAL_EPT_READ (1ull << 0)           /* the access was a data read */
#define QUAL_EPT_WRITE (1ull << 1)          /* a data write */
#define QUAL_EPT_FETCH (1ull << 2)          /* an instruction fetch */
#define QUAL_EPT_READABLE (1ull << 3)       /* what the EPT entries allowed: read */
#define QUAL_EPT_WRITABLE (1ull << 4)       /* write */
#define QUAL_EPT_EXECUTABLE (1ull << 5)     /* execute (supervisor-mode with mode-based control) */
#define QUAL_EPT_USER_EXECUTABLE (1ull << 6) /* user-mode execute, with mode-based control */
#define QUAL_EPT_LINEAR_VALID (1ull << 7)   /* the guest-linear address field is valid */
#define QUAL_EPT_FINAL (1ull << 8)          /* with bit 7: the access's own address, not a page walk's */
#define QUAL_NMI_UNBLOCKED_BY_IRET (1ull << 12) /* also in EPT violations, see exit.h */

struct exit_qual_ept {
    bool read, write, fetch;                /* the access */
    bool readable, writable, executable;    /* the permissions the EPT entries gave */
    bool linear_valid;                      /* VMCS_GUEST_LINEAR_ADDRESS holds the linear address */
    bool final;                             /* ... of the access itself (a walk's entry otherwise) */
    bool nmi_unblocked;                     /* an IRET lifted virtual-NMI blocking */
};

static inline struct exit_qual_ept exit_qual_ept(uint64_t q)
{
    return (struct exit_qual_ept){
        .read = q & QUAL_EPT_READ,
        .write = q & QUAL_EPT_WRITE,
        .fetch = q & QUAL_EPT_FETCH,
        .readable = q & QUAL_EPT_READABLE,
        .writable = q & QUAL_EPT_WRITABLE,
        .executable = q & QUAL_EPT_EXECUTABLE,
        .linear_valid = q & QUAL_EPT_LINEAR_VALID,
        .final = (q & QUAL_EPT_LINEAR_VALID) && (q & QUAL_EPT_FINAL), /* bit 8 means nothing without 7 */
        .nmi_unblocked = q & QUAL_NMI_UNBLOCKED_BY_IRET,
    };
}

/* --- VM-exit instruction information (SDM Vol. 3C 29.2.5, tables 29-8 for INS/OUTS and 29-15
 * for RDRAND/RDSEED): not a qualification, but decoded the same way --- */
#define INSN_INFO_IO_ADDRESS_SIZE_SHIFT 7   /* INS/OUTS: 9:7 address size (0: 16, 1: 32, 2: 64-bit) */
#define INSN_INFO_IO_SEGMENT_SHIFT 15       /* INS/OUTS: 17:15 the segment register (OUTS) */
#define INSN_INFO_RAND_REGISTER_SHIFT 3     /* RDRAND/RDSEED: 6:3 the destination register */
#define INSN_INFO_RAND_SIZE_SHIFT 11        /* RDRAND/RDSEED: 12:11 operand size (0: 16, 1: 32, 2: 64-bit) */

struct exit_insn_info_io {
    uint8_t address_size;       /* 0: 16-bit, 1: 32-bit, 2: 64-bit */
    uint8_t segment;            /* SEG_* order: ES, CS, SS, DS, FS, GS */
};

static inline struct exit_insn_info_io exit_insn_info_io(uint32_t info)
{
    return (struct exit_insn_info_io){
        .address_size = (uint8_t)((info >> INSN_INFO_IO_ADDRESS_SIZE_SHIFT) & 7),
        .segment = (uint8_t)((info >> INSN_INFO_IO_SEGMENT_SHIFT) & 7),
    };
}

struct exit_insn_info_rand {
    uint8_t reg;                /* GPR_* order */
    uint8_t size;               /* bytes: 2, 4 or 8 */
};

static inline struct exit_insn_info_rand exit_insn_info_rand(uint32_t info)
{
    return (struct exit_insn_info_rand){
        .reg = (uint8_t)((info >> INSN_INFO_RAND_REGISTER_SHIFT) & 15),
        .size = (uint8_t)(2u << ((info >> INSN_INFO_RAND_SIZE_SHIFT) & 3)),
    };
}

#endif
