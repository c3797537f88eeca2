/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The guest-state checks of SDM Vol. 3C 28.3.1 (26.3.1 in older editions), run by mhv itself
 * so that a "VM-entry failure due to invalid guest state" exit can name the field at fault
 * (see include/vmx/guest_check.h). The processor may run its checks in any order (28.3.1);
 * these run in the SDM's order, with one exception noted at check_rflags(), and the first
 * failure is reported.
 */
#include "vmx/guest_check.h"

#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "lib/format.h"

/* Controls the rules depend on (SDM Vol. 3C 25.8.1 VM-entry controls, 25.6.2 secondary). */
#define ENTRY_LOAD_DEBUG (1u << 2)
#define ENTRY_IA32E_GUEST (1u << 9)
#define ENTRY_LOAD_PAT (1u << 14)
#define ENTRY_LOAD_EFER (1u << 15)
#define PROC2_UNRESTRICTED_GUEST (1u << 7)

#define EFER_ALLOWED (1ull << 0 | EFER_LME | EFER_LMA | 1ull << 11) /* SCE, LME, LMA, NXE */
#define DEBUGCTL_BTF (1ull << 1)

#define RFLAGS_RESERVED (~0ull << 22 | 1ull << 15 | 1ull << 5 | 1ull << 3)

/* Segment access rights in the VMCS format (SDM Vol. 3C 25.4.1, Table 25-2). */
#define AR_TYPE(a) ((a) & 0xfu)
#define AR_DPL(a) (((a) >> 5) & 3u)
#define AR_S (1u << 4)
#define AR_P (1u << 7)
#define AR_L (1u << 13)
#define AR_DB (1u << 14)
#define AR_G (1u << 15)
#define AR_UNUSABLE (1u << 16)
#define AR_RESERVED 0xfffe0f00u /* bits 31:17 and 11:8 */
#define RPL(sel) ((sel) & 3u)
#define TI (1u << 2)

/* Guest non-register state (SDM Vol. 3C 25.4.2, Tables 25-3 and 25-4). */
enum { ACT_ACTIVE, ACT_HLT, ACT_SHUTDOWN, ACT_WAIT_SIPI };
#define INTR_STI (1u << 0)
#define INTR_MOV_SS (1u << 1)
#define INTR_SMI (1u << 2)
#define INTR_RESERVED (~0u << 5)
#define PDE_ENABLED_BP (1ull << 12)
#define PDE_BS (1ull << 14)
#define PDE_RTM (1ull << 16)
#define PDE_RESERVED (~0ull << 17 | 1ull << 15 | 1ull << 13 | 0xff0ull)

/* VM-entry interruption-information field (SDM Vol. 3C 25.8.3). */
#define II_VALID (1u << 31)
#define II_TYPE(i) (((i) >> 8) & 7u)
#define II_VECTOR(i) ((i) & 0xffu)
enum { II_EXTERNAL_INTERRUPT = 0, II_NMI = 2, II_HARDWARE_EXCEPTION = 3, II_OTHER_EVENT = 7 };

struct check {
    const struct vmx_guest_state *gs;
    const struct vmx_check_context *ctx;
    char *why;
    size_t why_size;
    bool ug;    /* "unrestricted guest" is in effect */
    bool ia32e; /* "IA-32e mode guest" entry control */
    bool v86;   /* the guest will be virtual-8086 (RFLAGS.VM, 28.3.1.2) */
};

/* Each rule: when cond fails, write the sentence and return the field's name. */
#define REQUIRE(cond, field, ...)                                                           \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            if (c->why)                                                                     \
                ksnprintf(c->why, c->why_size, __VA_ARGS__);                                \
            return (field);                                                                 \
        }                                                                                   \
    } while (0)

/* Register name, then the fields' names, for each segment register. */
#define SEG_FIELDS(r) \
    { r, "guest " r " selector", "guest " r " base", "guest " r " limit", "guest " r " access rights" }
enum { F_REG, F_SELECTOR, F_BASE, F_LIMIT, F_ACCESS };
static const char *const seg_names[SEG_COUNT][5] = {
    SEG_FIELDS("ES"), SEG_FIELDS("CS"), SEG_FIELDS("SS"), SEG_FIELDS("DS"),
    SEG_FIELDS("FS"), SEG_FIELDS("GS"), SEG_FIELDS("LDTR"), SEG_FIELDS("TR"),
};

/* Canonical for 48-bit linear addresses: bits 63:47 all equal. */
static bool canonical(uint64_t v)
{
    uint64_t top = v >> 47;
    return top == 0 || top == 0x1ffff;
}

static bool usable(const struct vmx_segment *s)
{
    return !(s->access & AR_UNUSABLE);
}

/* The limit field holds the limit in bytes, so it must be expressible in the unit G selects:
 * G=1 means 4-KByte units (low 12 bits all ones), G=0 means at most 1 MByte (28.3.1.2). */
static const char *limit_g_problem(const struct vmx_segment *s)
{
    if ((s->access & AR_G) && (s->limit & 0xfff) != 0xfff)
        return "G is 1 but limit bits 11:0 are not all 1";
    if (!(s->access & AR_G) && (s->limit >> 20))
        return "G is 0 but limit bits 31:20 are not all 0";
    return NULL;
}

/* 28.3.1.2 rules shared by every segment the checks cover: present, no reserved
 * access-rights bits (11:8, 31:17), limit expressible with its granularity. */
static const char *check_present_reserved_limit(const struct check *c, unsigned i)
{
    const struct vmx_segment *s = &c->gs->seg[i];
    const char *reg = seg_names[i][F_REG], *field = seg_names[i][F_ACCESS], *p = limit_g_problem(s);
    REQUIRE(s->access & AR_P, field, "%s.P is 0", reg);
    REQUIRE(!(s->access & AR_RESERVED), field, "%s access rights %#x set reserved bits %#x", reg,
            s->access, s->access & AR_RESERVED);
    REQUIRE(!p, field, "%s %s (limit %#x)", reg, p, s->limit);
    return NULL;
}

/* 28.3.1.1: control registers, debug registers and MSRs. */
static const char *check_control_registers(const struct check *c)
{
    const struct vmx_guest_state *gs = c->gs;
    const struct vmx_check_context *ctx = c->ctx;

    /* CR0 and CR4 must hold values VMX operation supports (IA32_VMX_CR*_FIXED*, SDM Vol. 3D
     * A.7-A.8). Unrestricted guest exempts PE and PG; NW and CD are never checked because
     * VM entry does not change them. */
    uint64_t cr0_must = ctx->cr0_fixed0 & ~(CR0_NW | CR0_CD);
    if (c->ug)
        cr0_must &= ~(CR0_PE | CR0_PG);
    uint64_t cr0_may = ctx->cr0_fixed1 | CR0_NW | CR0_CD;
    REQUIRE((gs->cr0 & cr0_must) == cr0_must, "guest CR0",
            "CR0 %#lx lacks bits %#lx that IA32_VMX_CR0_FIXED0 requires", gs->cr0, cr0_must & ~gs->cr0);
    REQUIRE(!(gs->cr0 & ~cr0_may), "guest CR0",
            "CR0 %#lx sets bits %#lx that IA32_VMX_CR0_FIXED1 forbids", gs->cr0, gs->cr0 & ~cr0_may);
    REQUIRE(!(gs->cr0 & CR0_PG) || (gs->cr0 & CR0_PE), "guest CR0", "CR0.PG is 1 but CR0.PE is 0");
    REQUIRE((gs->cr4 & ctx->cr4_fixed0) == ctx->cr4_fixed0, "guest CR4",
            "CR4 %#lx lacks bits %#lx that IA32_VMX_CR4_FIXED0 requires (bit 13 is VMXE)", gs->cr4,
            ctx->cr4_fixed0 & ~gs->cr4);
    REQUIRE(!(gs->cr4 & ~ctx->cr4_fixed1), "guest CR4",
            "CR4 %#lx sets bits %#lx that IA32_VMX_CR4_FIXED1 forbids", gs->cr4, gs->cr4 & ~ctx->cr4_fixed1);

    /* An IA-32e mode guest runs with paging on and PAE paging structures. */
    if (c->ia32e) {
        REQUIRE(gs->cr0 & CR0_PG, "guest CR0", "the IA-32e mode guest entry control is 1 but CR0.PG is 0");
        REQUIRE(gs->cr4 & CR4_PAE, "guest CR4", "the IA-32e mode guest entry control is 1 but CR4.PAE is 0");
    } else {
        REQUIRE(!(gs->cr4 & CR4_PCIDE), "guest CR4",
                "CR4.PCIDE is 1 but the IA-32e mode guest entry control is 0");
    }

    /* CR3 bits 63:52 and those beyond MAXPHYADDR must be 0. */
    unsigned width = ctx->physical_address_bits;
    if (width == 0 || width > 52)
        width = 52;
    REQUIRE(!(gs->cr3 >> width), "guest CR3", "CR3 %#lx sets bits beyond the physical-address width (%u)",
            gs->cr3, width);

    if (c->ctx->entry_controls & ENTRY_LOAD_DEBUG)
        REQUIRE(!(gs->dr7 >> 32), "guest DR7", "DR7 %#lx sets bits 63:32 with load debug controls", gs->dr7);
    REQUIRE(canonical(gs->sysenter_esp), "guest IA32_SYSENTER_ESP",
            "IA32_SYSENTER_ESP %#lx is not canonical", gs->sysenter_esp);
    REQUIRE(canonical(gs->sysenter_eip), "guest IA32_SYSENTER_EIP",
            "IA32_SYSENTER_EIP %#lx is not canonical", gs->sysenter_eip);

    /* PAT: what WRMSR would accept; each byte a memory type 0, 1, 4, 5, 6 or 7. */
    if (ctx->entry_controls & ENTRY_LOAD_PAT) {
        for (unsigned i = 0; i < 8; i++) {
            unsigned type = (gs->pat >> (8 * i)) & 0xff;
            REQUIRE(type <= 7 && type != 2 && type != 3, "guest IA32_PAT",
                    "IA32_PAT entry %u is %#x; it must be 0, 1, 4, 5, 6 or 7", i, type);
        }
    }

    /* EFER: no reserved bits; LMA is the IA-32e mode guest control; with paging on, LME
     * must agree with LMA. */
    if (ctx->entry_controls & ENTRY_LOAD_EFER) {
        REQUIRE(!(gs->efer & ~EFER_ALLOWED), "guest IA32_EFER",
                "IA32_EFER %#lx sets reserved bits %#lx", gs->efer, (uint64_t)(gs->efer & ~EFER_ALLOWED));
        REQUIRE(!(gs->efer & EFER_LMA) == !c->ia32e, "guest IA32_EFER",
                "IA32_EFER.LMA is %d but the IA-32e mode guest entry control is %d",
                !!(gs->efer & EFER_LMA), c->ia32e);
        REQUIRE(!(gs->cr0 & CR0_PG) || !(gs->efer & EFER_LME) == !(gs->efer & EFER_LMA), "guest IA32_EFER",
                "IA32_EFER.LME is %d but LMA is %d with CR0.PG 1", !!(gs->efer & EFER_LME),
                !!(gs->efer & EFER_LMA));
    }
    return NULL;
}

/* 28.3.1.4, RFLAGS. Run before the segment checks, out of the SDM's order: those checks read
 * RFLAGS.VM to decide whether the guest will be virtual-8086, and a bad RFLAGS should be
 * blamed on RFLAGS, not on the segments it misinterprets. */
static const char *check_rflags(const struct check *c)
{
    uint64_t rf = c->gs->rflags;
    REQUIRE(!(rf & RFLAGS_RESERVED), "guest RFLAGS", "RFLAGS %#lx sets reserved bits %#lx", rf,
            (uint64_t)(rf & RFLAGS_RESERVED));
    REQUIRE(rf & RFLAGS_FIXED1, "guest RFLAGS", "RFLAGS %#lx has bit 1 clear; it must be 1", rf);
    if (rf & RFLAGS_VM) {
        REQUIRE(!c->ia32e, "guest RFLAGS", "RFLAGS.VM is 1 in an IA-32e mode guest");
        REQUIRE(c->gs->cr0 & CR0_PE, "guest RFLAGS", "RFLAGS.VM is 1 but CR0.PE is 0");
    }
    uint32_t ii = c->gs->entry_interruption_info;
    if ((ii & II_VALID) && II_TYPE(ii) == II_EXTERNAL_INTERRUPT)
        REQUIRE(rf & RFLAGS_IF, "guest RFLAGS", "an external interrupt is injected but RFLAGS.IF is 0");
    return NULL;
}

/* 28.3.1.2, access rights of DS, ES, FS or GS outside virtual-8086 mode. */
static const char *check_data_segment(const struct check *c, unsigned i)
{
    const struct vmx_segment *s = &c->gs->seg[i];
    const char *reg = seg_names[i][F_REG], *field = seg_names[i][F_ACCESS];
    uint32_t a = s->access, type = AR_TYPE(a);
    if (!usable(s))
        return NULL;
    REQUIRE(type & 1, field, "%s type %u is not accessed (type bit 0 is 0)", reg, type);
    REQUIRE(!(type & 8) || (type & 2), field, "%s type %u is an execute-only code segment", reg, type);
    REQUIRE(a & AR_S, field, "%s.S is 0 in a usable segment", reg);
    /* Data and non-conforming code segments are loaded only when DPL >= RPL. */
    if (!c->ug && type <= 11)
        REQUIRE(AR_DPL(a) >= RPL(s->selector), field, "%s.DPL %u is below its selector's RPL %u", reg,
                AR_DPL(a), RPL(s->selector));
    return check_present_reserved_limit(c, i);
}

/* 28.3.1.2: segment registers. */
static const char *check_segments(const struct check *c)
{
    const struct vmx_guest_state *gs = c->gs;
    const struct vmx_segment *seg = gs->seg, *cs = &seg[SEG_CS], *ss = &seg[SEG_SS];
    const struct vmx_segment *tr = &seg[SEG_TR], *ldtr = &seg[SEG_LDTR];

    /* Selectors: TR and LDTR must come from the GDT; CPL is both CS.RPL and SS.RPL. */
    REQUIRE(!(tr->selector & TI), "guest TR selector", "TR selector %#x has TI 1", tr->selector);
    if (usable(ldtr))
        REQUIRE(!(ldtr->selector & TI), "guest LDTR selector", "LDTR selector %#x has TI 1", ldtr->selector);
    if (!c->v86 && !c->ug)
        REQUIRE(RPL(ss->selector) == RPL(cs->selector), "guest SS selector", "SS.RPL %u differs from CS.RPL %u",
                RPL(ss->selector), RPL(cs->selector));

    /* Bases: fixed by the selector in virtual-8086 mode; those that can be 64 bits wide
     * canonical; the others' bits 63:32 zero. Then limits and access rights, which
     * virtual-8086 mode fixes for the six user segments. */
    for (unsigned i = 0; i < SEG_COUNT; i++) {
        const char *reg = seg_names[i][F_REG], *field = seg_names[i][F_BASE];
        bool use = usable(&seg[i]);
        if (c->v86 && i <= SEG_GS)
            REQUIRE(seg[i].base == (uint64_t)seg[i].selector << 4, field,
                    "%s base %#lx is not selector %#x << 4 in virtual-8086 mode", reg, seg[i].base,
                    seg[i].selector);
        if (i == SEG_TR || i == SEG_FS || i == SEG_GS || (i == SEG_LDTR && use))
            REQUIRE(canonical(seg[i].base), field, "%s base %#lx is not canonical", reg, seg[i].base);
        if (i == SEG_CS || (use && (i == SEG_SS || i == SEG_DS || i == SEG_ES)))
            REQUIRE(!(seg[i].base >> 32), field, "%s base %#lx sets bits 63:32", reg, seg[i].base);
    }
    if (c->v86) {
        for (unsigned i = SEG_ES; i <= SEG_GS; i++) {
            const char *reg = seg_names[i][F_REG];
            REQUIRE(seg[i].limit == 0xffff, seg_names[i][F_LIMIT],
                    "%s limit %#x is not 0xffff in virtual-8086 mode", reg, seg[i].limit);
            REQUIRE(seg[i].access == 0xf3, seg_names[i][F_ACCESS],
                    "%s access rights %#x are not 0xf3 in virtual-8086 mode", reg, seg[i].access);
        }
    } else {
        /* CS: an accessed code segment (or, unrestricted, an accessed read/write data segment
         * as real mode leaves it). Its DPL is the CPL, which SS.DPL also holds. */
        const char *f = "guest CS access rights";
        uint32_t a = cs->access, type = AR_TYPE(a);
        REQUIRE(type == 9 || type == 11 || type == 13 || type == 15 || (c->ug && type == 3), f,
                "CS type %u is not an accessed code segment (9, 11, 13 or 15%s)", type,
                c->ug ? ", or 3 with unrestricted guest" : "");
        REQUIRE(a & AR_S, f, "CS.S is 0");
        if (type == 3)
            REQUIRE(AR_DPL(a) == 0, f, "CS type 3 needs DPL 0, not %u", AR_DPL(a));
        else if (type <= 11)
            REQUIRE(AR_DPL(a) == AR_DPL(ss->access), f, "CS.DPL %u differs from SS.DPL %u (non-conforming CS)",
                    AR_DPL(a), AR_DPL(ss->access));
        else
            REQUIRE(AR_DPL(a) <= AR_DPL(ss->access), f, "CS.DPL %u is above SS.DPL %u (conforming CS)",
                    AR_DPL(a), AR_DPL(ss->access));
        if (c->ia32e)
            REQUIRE(!(a & AR_L) || !(a & AR_DB), f, "CS.L and CS.D are both 1 in an IA-32e mode guest");
        if ((f = check_present_reserved_limit(c, SEG_CS)))
            return f;

        /* SS: a read/write data segment; in real mode or with CS type 3 the CPL is 0. */
        f = "guest SS access rights";
        a = ss->access;
        type = AR_TYPE(a);
        if (usable(ss)) {
            REQUIRE(type == 3 || type == 7, f, "SS type %u is not 3 or 7 (read/write accessed data)", type);
            REQUIRE(a & AR_S, f, "SS.S is 0 in a usable segment");
        }
        if (!c->ug)
            REQUIRE(AR_DPL(a) == RPL(ss->selector), f, "SS.DPL %u differs from its selector's RPL %u",
                    AR_DPL(a), RPL(ss->selector));
        if (AR_TYPE(cs->access) == 3 || !(gs->cr0 & CR0_PE))
            REQUIRE(AR_DPL(a) == 0, f, "SS.DPL is %u but must be 0 when CR0.PE is 0 or CS type is 3", AR_DPL(a));
        if (usable(ss) && (f = check_present_reserved_limit(c, SEG_SS)))
            return f;
        static const unsigned data[] = { SEG_DS, SEG_ES, SEG_FS, SEG_GS };
        for (unsigned k = 0; k < 4; k++)
            if ((f = check_data_segment(c, data[k])))
                return f;
    }

    /* TR: a present busy TSS, 64-bit in an IA-32e mode guest. */
    const char *f = "guest TR access rights";
    uint32_t a = tr->access, type = AR_TYPE(a);
    REQUIRE(type == 11 || (!c->ia32e && type == 3), f, "TR type %u is not a busy TSS (%s)", type,
            c->ia32e ? "11 in an IA-32e mode guest" : "3 or 11");
    REQUIRE(!(a & AR_S), f, "TR.S is 1; a TSS is a system segment");
    if ((f = check_present_reserved_limit(c, SEG_TR)))
        return f;
    REQUIRE(usable(tr), "guest TR access rights", "TR is marked unusable");

    /* LDTR, when usable: a present LDT descriptor. */
    if (usable(ldtr)) {
        f = "guest LDTR access rights";
        a = ldtr->access;
        REQUIRE(AR_TYPE(a) == 2, f, "LDTR type %u is not 2 (LDT)", AR_TYPE(a));
        REQUIRE(!(a & AR_S), f, "LDTR.S is 1; an LDT is a system segment");
        return check_present_reserved_limit(c, SEG_LDTR);
    }
    return NULL;
}

/* 28.3.1.3: descriptor-table registers. */
static const char *check_descriptor_tables(const struct check *c)
{
    const struct vmx_guest_state *gs = c->gs;
    REQUIRE(canonical(gs->gdtr_base), "guest GDTR base", "GDTR base %#lx is not canonical", gs->gdtr_base);
    REQUIRE(canonical(gs->idtr_base), "guest IDTR base", "IDTR base %#lx is not canonical", gs->idtr_base);
    REQUIRE(!(gs->gdtr_limit >> 16), "guest GDTR limit", "GDTR limit %#x sets bits 31:16", gs->gdtr_limit);
    REQUIRE(!(gs->idtr_limit >> 16), "guest IDTR limit", "IDTR limit %#x sets bits 31:16", gs->idtr_limit);
    return NULL;
}

/* 28.3.1.4: RIP (RFLAGS went first, see check_rflags). Only 64-bit code has a 64-bit RIP. */
static const char *check_rip(const struct check *c)
{
    uint64_t rip = c->gs->rip;
    if (c->ia32e && (c->gs->seg[SEG_CS].access & AR_L))
        REQUIRE(canonical(rip), "guest RIP", "RIP %#lx is not canonical", rip);
    else
        REQUIRE(!(rip >> 32), "guest RIP", "RIP %#lx sets bits 63:32 outside 64-bit mode", rip);
    return NULL;
}

/* 28.3.1.5: activity and interruptibility state, pending debug exceptions, VMCS link pointer. */
static const char *check_non_register_state(const struct check *c)
{
    const struct vmx_guest_state *gs = c->gs;
    uint32_t act = gs->activity_state, intr = gs->interruptibility, ii = gs->entry_interruption_info;
    uint32_t type = II_TYPE(ii), vector = II_VECTOR(ii);
    bool valid = ii & II_VALID;

    const char *f = "guest activity state";
    REQUIRE(act <= ACT_WAIT_SIPI, f,
            "activity state %u is not 0 (active), 1 (HLT), 2 (shutdown) or 3 (wait-for-SIPI)", act);
    if (act == ACT_HLT)
        REQUIRE(AR_DPL(gs->seg[SEG_SS].access) == 0, f, "activity state is HLT but SS.DPL is %u, not 0",
                AR_DPL(gs->seg[SEG_SS].access));
    if (intr & (INTR_STI | INTR_MOV_SS))
        REQUIRE(act == ACT_ACTIVE, f, "activity state is %u but blocking by STI or MOV SS needs it active", act);
    /* The events a halted, shut-down or SIPI-waiting processor could take. */
    if (valid && act != ACT_ACTIVE) {
        bool ok = false;
        if (act == ACT_HLT)
            ok = type == II_EXTERNAL_INTERRUPT || type == II_NMI ||
                 (type == II_HARDWARE_EXCEPTION && (vector == 1 || vector == 18)) ||
                 (type == II_OTHER_EVENT && vector == 0);
        else if (act == ACT_SHUTDOWN)
            ok = type == II_NMI || (type == II_HARDWARE_EXCEPTION && vector == 18);
        REQUIRE(ok, f, "activity state %u cannot take the injected event (type %u, vector %u)", act, type, vector);
    }

    f = "guest interruptibility state";
    REQUIRE(!(intr & INTR_RESERVED), f, "interruptibility state %#x sets reserved bits 31:5", intr);
    REQUIRE((intr & (INTR_STI | INTR_MOV_SS)) != (INTR_STI | INTR_MOV_SS), f,
            "blocking by STI and by MOV SS are both 1");
    REQUIRE(!(intr & INTR_STI) || (gs->rflags & RFLAGS_IF), f, "blocking by STI is 1 but RFLAGS.IF is 0");
    if (valid && type == II_EXTERNAL_INTERRUPT)
        REQUIRE(!(intr & (INTR_STI | INTR_MOV_SS)), f,
                "an external interrupt is injected under blocking by STI or MOV SS");
    if (valid && type == II_NMI)
        REQUIRE(!(intr & INTR_MOV_SS), f, "an NMI is injected under blocking by MOV SS");
    /* mhv never runs VM entries from SMM, where alone blocking by SMI may be 1. */
    REQUIRE(!(intr & INTR_SMI), f, "blocking by SMI is 1 outside SMM");

    f = "guest pending debug exceptions";
    uint64_t pde = gs->pending_debug;
    REQUIRE(!(pde & PDE_RESERVED), f, "pending debug exceptions %#lx set reserved bits %#lx", pde,
            (uint64_t)(pde & PDE_RESERVED));
    /* Under STI or MOV-SS blocking, or in HLT, a pending single step must be recorded in BS
     * exactly when RFLAGS.TF would have caused one. */
    if ((intr & (INTR_STI | INTR_MOV_SS)) || act == ACT_HLT) {
        bool single_step = (gs->rflags & RFLAGS_TF) && !(gs->debugctl & DEBUGCTL_BTF);
        REQUIRE(!single_step || (pde & PDE_BS), f, "BS is 0 but RFLAGS.TF is 1 and IA32_DEBUGCTL.BTF is 0");
        REQUIRE(single_step || !(pde & PDE_BS), f, "BS is 1 but RFLAGS.TF is 0 or IA32_DEBUGCTL.BTF is 1");
    }
    if (pde & PDE_RTM) {
        REQUIRE((pde & 0xffffull) == PDE_ENABLED_BP, f,
                "RTM is 1, so bit 12 must be the only other bit set, not %#lx", pde);
        REQUIRE(!(intr & INTR_MOV_SS), f, "RTM is 1 under blocking by MOV SS");
    }

    /* Without VMCS shadowing (mhv never uses it) the link pointer must be all ones. */
    REQUIRE(gs->vmcs_link_pointer == ~0ull, "guest VMCS link pointer",
            "VMCS link pointer %#lx is not 0xffffffffffffffff", gs->vmcs_link_pointer);
    return NULL;
}

const char *vmx_check_guest_state(const struct vmx_guest_state *gs, const struct vmx_check_context *ctx,
                                  char *why, size_t why_size)
{
    struct check c = {
        .gs = gs,
        .ctx = ctx,
        .why = why_size ? why : NULL,
        .why_size = why_size,
        .ug = ctx->secondary_active && (ctx->secondary_controls & PROC2_UNRESTRICTED_GUEST),
        .ia32e = ctx->entry_controls & ENTRY_IA32E_GUEST,
        .v86 = gs->rflags & RFLAGS_VM,
    };
    if (c.why)
        why[0] = '\0';
    const char *field = check_control_registers(&c);
    if (!field)
        field = check_rflags(&c);
    if (!field)
        field = check_segments(&c);
    if (!field)
        field = check_descriptor_tables(&c);
    if (!field)
        field = check_rip(&c);
    if (!field)
        field = check_non_register_state(&c);
    return field;
}
