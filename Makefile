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
#   make demo             build, boot the newest kernel, serve the same
#                         HTTP server on stock TCP and on AF_XTCP to the
#                         same clients, capture and trace both: report
#                         under build/demo/<date>/ (DEMO_ARGS: scripts/demo
#                         options, e.g. --all-kernels)
#   make install          install KVER's xtcp.ko and xtcp_dctcp.ko into
#                         $(DESTDIR)/lib/modules/KVER/updates/xtcp/ and run
#                         depmod; and install-headers
#   make install-headers  install include/xtcp/cong.h and the uAPI header
#                         into $(DESTDIR)/usr/src/xtcp/include/ and KVER's
#                         Module.symvers into $(DESTDIR)/usr/src/xtcp/KVER/:
#                         what an algorithm module builds against
#                         (Documentation/cong-example.rst)
#   make samples-<release>  build samples/cong against an install staged
#                         in build/<release>/stage, install it there too
#   make sparse | checkpatch | clean

ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

KERNELS := $(sort $(patsubst /lib/modules/%/build,%,$(wildcard /lib/modules/*/build)))
NEWEST := $(lastword $(shell printf '%s\n' $(KERNELS) | sort -V))
KVER ?= $(if $(wildcard /lib/modules/$(shell uname -r)/build),$(shell uname -r),$(NEWEST))
KDIR ?= /lib/modules/$(KVER)/build

# Warnings are errors for our own code; W=1 is the bar for every build.
KBUILD_OPTS := W=1 KCFLAGS=-Werror

.PHONY: all module all-kernels kernel-% sparse sparse-% checkpatch check demo bench \
	deps selftests clean help install install-headers samples-%

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

# Installed as a distribution's module would be (updates/ beats the
# kernel's own tree), and what an out-of-tree algorithm needs: the
# headers and the exports' CRCs.  Module.symvers names the modules by
# their path in the build tree: installed, it says mod/xtcp.  depmod -b
# works on a staging DESTDIR too: it indexes just these two modules, and
# its warnings that the kernel's modules.order and modules.builtin* are
# missing there are dropped.  DEPMOD=true skips it.
DEPMOD ?= /sbin/depmod
XTCP_MODDIR = $(DESTDIR)/lib/modules/$(KVER)/updates/xtcp
XTCP_SRCDIR = $(DESTDIR)/usr/src/xtcp

install: install-headers
	install -d $(XTCP_MODDIR)
	install -m 644 $(ROOT)/build/$(KVER)/mod/xtcp.ko \
		$(ROOT)/build/$(KVER)/mod/xtcp_dctcp.ko $(XTCP_MODDIR)/
	@echo "DEPMOD $(KVER)$(if $(DESTDIR), in $(DESTDIR))"
	@err=$$(mktemp) && { $(DEPMOD) $(if $(DESTDIR),-b $(DESTDIR)) $(KVER) \
		2>"$$err"; rc=$$?; grep -v 'could not open modules\.\(order\|builtin\)' \
		"$$err" >&2; rm -f "$$err"; exit $$rc; }

install-headers: build/$(KVER)/mod/xtcp.ko
	install -d $(XTCP_SRCDIR)/include/xtcp \
		$(XTCP_SRCDIR)/include/uapi/linux $(XTCP_SRCDIR)/$(KVER)
	install -m 644 $(ROOT)/include/xtcp/cong.h $(XTCP_SRCDIR)/include/xtcp/
	install -m 644 $(ROOT)/include/uapi/linux/xtcp.h \
		$(XTCP_SRCDIR)/include/uapi/linux/
	sed 's|$(ROOT)/build/$(KVER)/||' $(ROOT)/build/$(KVER)/Module.symvers \
		>$(XTCP_SRCDIR)/$(KVER)/Module.symvers

# The worked example of Documentation/cong-example.rst, built per kernel
# as its reader builds it: out of tree, in a directory of its own (links
# to the two files), against headers installed into build/<release>/stage.
# Warnings are errors, modpost's too.  The stage then gets what the
# reader installs, the example and make install's modules in a stand-in
# for /lib/modules/<release> (scripts/stage-tree), and so depmod's index
# of that machine: selftests/cong_module.sh installs the same modules in
# the guest and takes the index from here when the guest's tree is the
# same, as depmod -a there takes 45 s under TCG.  make check builds this
# before the guests boot.
STAGE = $(ROOT)/build/$*/stage
SAMPLE = $(ROOT)/build/$*/samples/cong

samples-%: FORCE
	@$(ROOT)/scripts/stage-tree $* $(STAGE)
	@$(MAKE) -s install-headers KVER=$* DESTDIR=$(STAGE)
	@mkdir -p $(SAMPLE)
	@ln -sfn $(ROOT)/samples/cong/Makefile $(ROOT)/samples/cong/xtcp_scalable.c \
		$(SAMPLE)/
	@$(MAKE) -C /lib/modules/$*/build M=$(SAMPLE) XTCP=$(STAGE)/usr/src/xtcp \
		$(KBUILD_OPTS) modules >$(SAMPLE)/build.log 2>&1; \
		rc=$$?; cat $(SAMPLE)/build.log; [ $$rc = 0 ]
	@! grep -E 'warning|WARNING|error|ERROR' $(SAMPLE)/build.log
	@install -m 644 $(SAMPLE)/xtcp_scalable.ko $(STAGE)/lib/modules/$*/updates/xtcp/
	@$(MAKE) -s install KVER=$* DESTDIR=$(STAGE)

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
	$(ROOT)/scripts/demo $(DEMO_ARGS)

bench:
	$(ROOT)/scripts/bench

clean:
	$(MAKE) -C $(KDIR) M=$(ROOT) clean 2>/dev/null || true
	rm -rf $(ROOT)/build
	$(MAKE) -C $(ROOT)/selftests clean 2>/dev/null || true

help:
	@sed -n '3,28p' $(ROOT)/Makefile

FORCE:
