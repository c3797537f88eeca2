# SPDX-License-Identifier: BSD-2-Clause
# mhv build. `make` builds build/mhv.elf and build/mhv.iso; see README.md for the rest.

# DEBUG=1 (the default, used by make run and make test) keeps debug assertions such as "every
# VMREAD/VMWRITE is on the current VMCS"; make bench measures a DEBUG=0 build in build/release.
DEBUG   ?= 1
BUILD   ?= $(if $(filter 0,$(DEBUG)),build/release,build)
CC      := gcc
LD      := ld
NASM    := nasm
HOSTCC  := gcc

# Terse output; `make V=1` shows the full commands.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif

KERNEL_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wredundant-decls -Wcast-qual -Iinclude \
    -ffreestanding -fno-pie -fno-pic -mcmodel=small -mno-red-zone -mgeneral-regs-only \
    -mno-mmx -mno-sse -mno-sse2 -fno-common -fno-stack-protector -fno-omit-frame-pointer \
    -fno-asynchronous-unwind-tables -fcf-protection=none -nostdlib -MMD -MP -DMHV_DEBUG=$(DEBUG)
KERNEL_LDFLAGS := -n -nostdlib -T linker.ld -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments

# Sources by folder, in the direction data flows (see README.md "Layout").
KERNEL_C := $(wildcard arch/x86/*.c kernel/*.c drivers/*.c vmx/*.c vm/*.c devices/*.c sched/*.c lib/*.c)
KERNEL_ASM := $(wildcard boot/*.asm arch/x86/*.asm vmx/*.asm vm/*.asm)
KERNEL_OBJS := $(KERNEL_C:%.c=$(BUILD)/%.o) $(KERNEL_ASM:%.asm=$(BUILD)/%.asm.o)

# Test guests (tests/guests/*.asm): flat images with the mhv guest header.
GUESTS := $(patsubst tests/guests/%.asm,$(BUILD)/guests/%.bin,$(wildcard tests/guests/*.asm))

.PHONY: all deps run run-qemu test unit fuzz guests cguests bench linux-images kvm-unit-tests fuzz-long clean
all: $(BUILD)/mhv.elf $(BUILD)/mhv.iso guests cguests
guests: $(GUESTS)

$(BUILD)/guests/%.bin: tests/guests/%.asm $(wildcard tests/guests/*.inc)
	@mkdir -p $(@D)
	$(call say,GUEST,$<)
	$(Q)$(NASM) -f bin -I tests/guests/ -o $@ $<

# C test guests (tests/cguests/<name>.c): linked flat with the runtime in tests/cguests/rt/ and
# mhv's freestanding lib/format.c and lib/string.c (README "Tests").
CGUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wredundant-decls -Wcast-qual \
    -Iinclude -Itests/cguests/rt \
    -ffreestanding -fno-pie -fno-pic -mcmodel=small -mno-red-zone -mgeneral-regs-only -mno-mmx -mno-sse \
    -mno-sse2 -fno-common -fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none -nostdlib -MMD -MP
CGUEST_RT := $(patsubst tests/cguests/rt/%.c,$(BUILD)/cguests/rt/%.o,$(wildcard tests/cguests/rt/*.c)) \
    $(patsubst tests/cguests/rt/%.asm,$(BUILD)/cguests/rt/%.asm.o,$(wildcard tests/cguests/rt/*.asm)) \
    $(BUILD)/lib/format.o $(BUILD)/lib/string.o
CGUESTS := $(patsubst tests/cguests/%.c,$(BUILD)/cguests/%.bin,$(wildcard tests/cguests/*.c))
.PRECIOUS: $(BUILD)/cguests/%.o $(BUILD)/cguests/rt/%.asm.o $(BUILD)/cguests/%.elf
cguests: $(CGUESTS)

$(BUILD)/cguests/%.o: tests/cguests/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(CGUEST_CFLAGS) -c $< -o $@
$(BUILD)/cguests/rt/%.asm.o: tests/cguests/rt/%.asm
	@mkdir -p $(@D)
	$(call say,NASM,$<)
	$(Q)$(NASM) -f elf64 -g -F dwarf -o $@ $<
$(BUILD)/cguests/%.elf: $(BUILD)/cguests/%.o $(CGUEST_RT) tests/cguests/rt/guest.ld
	$(Q)$(LD) -n -nostdlib -T tests/cguests/rt/guest.ld -z max-page-size=0x1000 -z noexecstack \
	  --no-warn-rwx-segments -o $@ $< $(CGUEST_RT)
$(BUILD)/cguests/%.bin: $(BUILD)/cguests/%.elf
	$(call say,CGUEST,$@)
	$(Q)objcopy -O binary $< $@
# The exit fuzzer (tests/cguests/exitfuzz.c) links its operation families from exitfuzz/ too.
EXITFUZZ_OBJS := $(patsubst tests/cguests/%.c,$(BUILD)/cguests/%.o,$(wildcard tests/cguests/exitfuzz/*.c))
$(BUILD)/cguests/exitfuzz.elf: $(BUILD)/cguests/exitfuzz.o $(EXITFUZZ_OBJS) $(CGUEST_RT) tests/cguests/rt/guest.ld
	$(Q)$(LD) -n -nostdlib -T tests/cguests/rt/guest.ld -z max-page-size=0x1000 -z noexecstack \
	  --no-warn-rwx-segments -o $@ $(filter %.o,$^)

deps:
	@tools/install-deps

# The version string changes with every commit; keep it in a header rewritten only then.
$(BUILD)/version.h: FORCE
	@mkdir -p $(@D)
	@v="#define MHV_VERSION \"$$(git describe --always --dirty 2>/dev/null || echo unknown)\""; \
	  [ "$$(cat $@ 2>/dev/null)" = "$$v" ] || echo "$$v" > $@
FORCE:

$(BUILD)/kernel/main.o: $(BUILD)/version.h
$(BUILD)/kernel/main.o: KERNEL_CFLAGS += -include $(BUILD)/version.h

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(KERNEL_CFLAGS) -c $< -o $@

# The AP trampoline runs in real mode at whatever page it is copied to: a flat binary.
$(BUILD)/boot/ap/trampoline.bin: boot/ap/trampoline.asm
	@mkdir -p $(@D)
	$(call say,NASM,$<)
	$(Q)$(NASM) -f bin -o $@ $<
$(BUILD)/boot/ap_trampoline_blob.asm.o: $(BUILD)/boot/ap/trampoline.bin
$(BUILD)/boot/ap_trampoline_blob.asm.o: NASM_INCLUDE := -I $(BUILD)/boot/ap/

# The built-in demo carries its configuration and guests (vm/demo.c).
DEMO_IMAGES := hello64 real16 cpuid smp mmio
$(BUILD)/vm/demo_images.asm.o: vm/demo.cfg vm/demo-linux.cfg $(DEMO_IMAGES:%=$(BUILD)/guests/%.bin)
$(BUILD)/vm/demo_images.asm.o: NASM_INCLUDE := -I $(BUILD)/guests/

$(BUILD)/%.asm.o: %.asm
	@mkdir -p $(@D)
	$(call say,NASM,$<)
	$(Q)$(NASM) -f elf64 -g -F dwarf $(NASM_INCLUDE) -o $@ $<

# Two links: the first, with an empty symbol table, gives the addresses the table then
# records. The table lives in .rodata, after .text, so the text addresses cannot move; the
# final check proves it.
$(BUILD)/ksyms0.c:
	@mkdir -p $(@D)
	$(Q)tools/gen-ksyms - > $@
$(BUILD)/ksyms%.o: $(BUILD)/ksyms%.c
	$(Q)$(CC) $(KERNEL_CFLAGS) -c $< -o $@
$(BUILD)/mhv.pass1.elf: $(KERNEL_OBJS) $(BUILD)/ksyms0.o linker.ld
	$(Q)$(LD) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS) $(BUILD)/ksyms0.o
$(BUILD)/ksyms1.c: $(BUILD)/mhv.pass1.elf tools/gen-ksyms
	$(Q)tools/gen-ksyms $< > $@
$(BUILD)/mhv.elf: $(BUILD)/mhv.pass1.elf $(BUILD)/ksyms1.o
	$(call say,LD,$@)
	$(Q)$(LD) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS) $(BUILD)/ksyms1.o
	@nm -n $(BUILD)/mhv.pass1.elf | grep ' [tT] ' > $(BUILD)/text1.syms; \
	  nm -n $@ | grep ' [tT] ' > $(BUILD)/text2.syms; \
	  cmp -s $(BUILD)/text1.syms $(BUILD)/text2.syms || { echo "error: text moved between links"; rm -f $@; exit 1; }
	@grub-file --is-x86-multiboot2 $@ || { echo "error: $@ is not a multiboot2 kernel"; rm -f $@; exit 1; }

$(BUILD)/mhv.iso: $(BUILD)/mhv.elf tools/mkiso
	$(call say,ISO,$@)
	$(Q)tools/mkiso $@ $< ""

# ---- running -------------------------------------------------------------------------------
# Without a configuration mhv boots its built-in demo (vm/demo.cfg): five test guests as VMs on
# 2 CPUs, and Linux with a shell on the console when tools/linux-images could fetch Debian's
# kernel and BusyBox (modules vmlinuz and initrd; vm/demo-linux.cfg).
RUN_ARGS ?= --smp 2 --mem 512
# Packages first, then the build: a fresh machine needs nasm and GRUB before anything compiles.
# The Linux modules are looked for when the recipe runs, after tools/linux-images fetched them
# (a $(wildcard) would be expanded by make before that, and a first run would boot without).
run:
	@tools/install-deps
	@$(MAKE) --no-print-directory all
	@tools/linux-images || echo "make run: no Linux images (see above); the demo runs without Linux"
	@modules=; if [ -f build/linux/vmlinuz ] && [ -f build/linux/initrd.img ]; then \
	  modules="--module build/linux/vmlinuz=vmlinuz --module build/linux/initrd.img=initrd"; fi; \
	  exec tools/mhv-run --emu bochs --interactive $(RUN_ARGS) $$modules
run-qemu:
	@tools/install-deps
	@$(MAKE) --no-print-directory all
	@tools/mhv-run --emu qemu --interactive $(RUN_ARGS)

# ---- tests ---------------------------------------------------------------------------------
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/test_*.c))
# The kernel's warnings but -Wmissing-prototypes: test files define stand-ins for kernel functions
# without the headers that declare them.
UNIT_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wshadow -Wredundant-decls -Wcast-qual -Iinclude -Itests/unit \
    -DHOST_UNIT_TEST -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

# Each unit test lists the real sources it exercises in a "// sources:" line.
$(BUILD)/unit/%: tests/unit/%.c tests/unit/stubs.c tests/unit/stubs.h $(KERNEL_C)
	@mkdir -p $(@D)
	$(call say,HOSTCC,$@)
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) -o $@ $< tests/unit/stubs.c \
	  $$(sed -n 's|^// sources: ||p' $<) -lcmocka

unit: $(UNIT_TESTS)

# libFuzzer targets (tests/fuzz/*.c), built with clang; tests/run-all runs each for a bounded time.
FUZZERS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/*.c))
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/unit/stubs.c $(KERNEL_C)
	@mkdir -p $(@D)
	$(call say,FUZZCC,$@)
	$(Q)clang -std=gnu11 -O1 -g -Iinclude -Itests/unit -DHOST_UNIT_TEST -fsanitize=fuzzer,address,undefined \
	  -o $@ $< tests/unit/stubs.c $$(sed -n 's|^// sources: ||p' $<) -lcmocka
fuzz: $(FUZZERS)

test:
	@tools/install-deps
	@$(MAKE) --no-print-directory all unit fuzz
	@tests/run-all

# make check (a test of make test: tests/tools/check.sh): the kernel and the C test guests built
# with their warnings as errors (above), clang's static analyzer over every kernel C file (with
# the kernel's flags, for the same preprocessing; it reports no compiler warnings, gcc's build
# does), and no comment naming a file that does not exist (tools/check-refs). A finding fails
# it. The analyzer runs once per file and again when the file or a header it includes changes;
# CHECK_C names other files to analyze (the test plants findings that way).
.PHONY: check analyze
CHECK_C ?= $(KERNEL_C)
ANALYZE_CFLAGS := $(filter-out -g -MMD -MP,$(KERNEL_CFLAGS)) --analyze --analyzer-output text -Xclang -analyzer-werror
check: $(BUILD)/mhv.elf cguests analyze
	@tools/check-refs
	@tools/layers --check
analyze: $(CHECK_C:%.c=$(BUILD)/check/%.analyzed)

$(BUILD)/check/%.analyzed: %.c
	@mkdir -p $(@D)
	$(call say,CHECK,$<)
	$(Q)clang $(ANALYZE_CFLAGS) -MMD -MP -MT $@ -MF $(@:.analyzed=.d) -o /dev/null $<
	@touch $@
$(BUILD)/check/kernel/main.analyzed: $(BUILD)/version.h
$(BUILD)/check/kernel/main.analyzed: ANALYZE_CFLAGS += -include $(BUILD)/version.h

# Every applicable kvm-unit-test, the slow ones too (make test leaves those out): tools/kut-run
# with the prebuilt tests in $(KUT_DIR), else ../shared/kvm-unit-tests (skipped without them).
kvm-unit-tests:
	@tools/install-deps
	@$(MAKE) --no-print-directory all
	@tools/kut-run --all; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 77 ]

# The exit fuzzer for hours: its boot test (tests/boot/bochs_exitfuzz.sh) round after round with
# new seeds until FUZZ_LONG_OPS operations ran (a hundred million; FUZZ_LONG_ROUND per round).
fuzz-long:
	@tools/install-deps
	@$(MAKE) --no-print-directory all
	@MHV_BUILD=$(BUILD) tests/cguests/fuzz-long

bench:
	@tools/install-deps
	@$(MAKE) --no-print-directory DEBUG=0 all
	@tools/bench build/release
	@tools/bench-linux build/release; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 77 ]
	@tools/bench-linux build/release --append quiet; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 77 ]

# Debian's stock cloud kernel and a BusyBox initramfs for the Linux VM (build/linux/vmlinuz,
# build/linux/initrd.img); fetched once with apt-get download, then cached.
linux-images:
	@tools/install-deps
	@tools/linux-images

clean:
	rm -rf $(BUILD)

-include $(KERNEL_OBJS:.o=.d) $(CHECK_C:%.c=$(BUILD)/check/%.d)
-include $(patsubst tests/cguests/%.c,$(BUILD)/cguests/%.d,$(wildcard tests/cguests/*.c tests/cguests/rt/*.c tests/cguests/exitfuzz/*.c))
