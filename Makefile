# SPDX-License-Identifier: GPL-2.0
#
# xtcp: out-of-tree build, tests and demo.
#
#   make                  build mod/xtcp.ko for KVER (default: running kernel
#                         if its build dir exists, else the newest installed)
#   make KVER=<release>   build for that installed kernel
#   make all-kernels      build build/<release>/mod/xtcp.ko for every kernel
#                         with headers in /lib/modules/*/build
#   make check            build for every kernel, run selftests/ in a qemu
#                         guest per kernel, print TAP and "N passed, N failed"
#   make demo             build, boot, show an AF_XTCP socket at work
#   make sparse | checkpatch | clean

ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

KERNELS := $(sort $(patsubst /lib/modules/%/build,%,$(wildcard /lib/modules/*/build)))
NEWEST := $(lastword $(shell printf '%s\n' $(KERNELS) | sort -V))
KVER ?= $(if $(wildcard /lib/modules/$(shell uname -r)/build),$(shell uname -r),$(NEWEST))
KDIR ?= /lib/modules/$(KVER)/build

# Warnings are errors for our own code; W=1 is the bar for every build.
KBUILD_OPTS := W=1 KCFLAGS=-Werror

.PHONY: all module all-kernels kernel-% sparse sparse-% checkpatch check demo bench \
	deps selftests clean help

all: module

module:
	$(MAKE) -C $(KDIR) M=$(ROOT) $(KBUILD_OPTS) modules

# One tree of symlinks per kernel, so that objects of different kernels
# never share a directory and incremental builds stay incremental.
build/%/mod/xtcp.ko: FORCE
	@$(ROOT)/scripts/build-tree $(ROOT) $(ROOT)/build/$*
	$(MAKE) -C /lib/modules/$*/build M=$(ROOT)/build/$* $(KBUILD_OPTS) modules

kernel-%: build/%/mod/xtcp.ko
	@:

all-kernels: $(foreach k,$(KERNELS),build/$(k)/mod/xtcp.ko)

# sparse over every file (C=2), per kernel; any warning fails.
sparse-%: FORCE
	@$(ROOT)/scripts/build-tree $(ROOT) $(ROOT)/build/$*
	@$(MAKE) -C /lib/modules/$*/build M=$(ROOT)/build/$* \
		$(KBUILD_OPTS) C=2 CF=-D__CHECK_ENDIAN__ modules \
		> $(ROOT)/build/$*/sparse.log 2>&1 || \
		{ cat $(ROOT)/build/$*/sparse.log; exit 1; }
	@! grep -E 'warning|error' $(ROOT)/build/$*/sparse.log
	@echo "sparse: $* clean"

sparse: $(foreach k,$(KERNELS),sparse-$(k))

checkpatch:
	$(ROOT)/scripts/checkpatch

deps:
	$(ROOT)/scripts/deps

selftests:
	$(MAKE) -C $(ROOT)/selftests

check:
	$(ROOT)/scripts/check

demo:
	$(ROOT)/scripts/demo

bench:
	$(ROOT)/scripts/bench

clean:
	$(MAKE) -C $(KDIR) M=$(ROOT) clean 2>/dev/null || true
	rm -rf $(ROOT)/build
	$(MAKE) -C $(ROOT)/selftests clean 2>/dev/null || true

help:
	@sed -n '3,14p' $(ROOT)/Makefile

FORCE:
