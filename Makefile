# Carapace: build, test, demo, validation, bench.
GO        ?= go
VERSION   ?= $(shell git describe --tags --dirty 2>/dev/null || echo 0.1.0-dev)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BIN       := bin/carapace
# Static and stripped: no dynamic loader work at each of the runtime's
# starts. cgo only for the nsenter constructor (user/time namespace joins).
BUILD_TAGS := netgo,osusergo,urfave_cli_no_docs
# The Go runtime's compiled-in GODEBUG: the //go:debug lines of package
# main (as go build would set it), plus memprofilerate=0, which no
# //go:debug line may set. The linker turns heap profiling off only once
# schedinit has allocated for a while, and the first allocations are
# sampled with a fixed seed: every start paid a stack walk and the
# profiler's hash tables (57 page faults of 350 for --version). Read this
# early, the setting keeps the profiler off from the first allocation; a
# GODEBUG in the environment still overrides it.
GODEBUG_DEFAULT = $(shell $(GO) list -tags $(BUILD_TAGS) -f '{{.DefaultGODEBUG}}' .),memprofilerate=0
GOFLAGS_BUILD = -trimpath -tags $(BUILD_TAGS) \
	-ldflags "-s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X runtime.godebugDefault=$(GODEBUG_DEFAULT) -linkmode external -extldflags -static"

.PHONY: all build test unit e2e clients cri critest critest-bin bench-cri validation soak test-v2 test-systemd test-lsm vm-systemd-selftest demo bench bench-ci profile bench-systemd bench-docker lint clean

all: build

# Built under another name and renamed: a suite running the old binary
# never sees a half-written one.
build:
	CGO_ENABLED=1 $(GO) build $(GOFLAGS_BUILD) -o $(BIN).tmp .
	mv -f $(BIN).tmp $(BIN)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags libseccomp ./libcarapace/seccomp/...
	$(GO) vet -tags faultinject ./libcarapace/... ./tests/e2e/
	$(GO) test -count=1 ./libcarapace/internal/cloexec/

# -tags libseccomp adds the differential test of the seccomp compiler
# against libseccomp (libseccomp-dev, a test-only cgo helper never linked
# into the runtime).
unit:
	$(GO) test -count=1 -tags libseccomp ./libcarapace/...

e2e: build
	CARAPACE_BINARY=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 15m ./tests/e2e/

# containerd, podman and docker, each a private instance, with the runtime
# under them (tests/clients). CARAPACE_BINARY=/usr/sbin/runc runs the same
# suites against runc.
clients: build
	CARAPACE_BINARY=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 20m -v ./tests/clients/ 2>&1 | tests/clients/summary.sh

# Kubernetes' CRI: a private containerd with its CRI plugin, driven by
# crictl, with CNI pod networking and images from registries on 127.0.0.1,
# all in the test's own network namespace (tests/cri).
# CARAPACE_BINARY=/usr/sbin/runc runs the same suite against runc.
# It runs a subset of critest (TestCritest) with the handlers runc and
# carapace; make critest runs all of critest.
cri: build critest-bin
	CARAPACE_BINARY=$(CURDIR)/$(BIN) CARAPACE_CRITEST_DIR=$(CRITEST_DIR) $(GO) test -count=1 -timeout 20m -v ./tests/cri/

# cri-tools' critest, Kubernetes' conformance suite for CRI runtimes, run
# in full on the node of tests/cri with the handler runc and with the
# handler carapace: whatever passes with runc must pass with Carapace.
critest: build critest-bin
	CARAPACE_BINARY=$(CURDIR)/$(BIN) CARAPACE_CRITEST_DIR=$(CRITEST_DIR) CARAPACE_CRITEST=full \
		$(GO) test -count=1 -timeout 90m -v -run 'TestCritest' ./tests/cri/

# critest and the ginkgo CLI its -parallel runs through (the version
# cri-tools requires), built once from the module into a cache dir.
CRITEST_VERSION := v1.37.0
CRITEST_DIR     ?= $(HOME)/.cache/carapace-critest/$(CRITEST_VERSION)
critest-bin: $(CRITEST_DIR)/critest $(CRITEST_DIR)/ginkgo

$(CRITEST_DIR)/critest $(CRITEST_DIR)/ginkgo &:
	mkdir -p $(CRITEST_DIR)
	dir=$$($(GO) mod download -json sigs.k8s.io/cri-tools@$(CRITEST_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p') && \
	test -n "$$dir" && cd "$$dir" && \
	$(GO) test -c -o $(CRITEST_DIR)/critest.tmp ./cmd/critest && \
	$(GO) build -o $(CRITEST_DIR)/ginkgo.tmp github.com/onsi/ginkgo/v2/ginkgo
	mv -f $(CRITEST_DIR)/critest.tmp $(CRITEST_DIR)/critest
	mv -f $(CRITEST_DIR)/ginkgo.tmp $(CRITEST_DIR)/ginkgo

# Pod start latency under the CRI (runp + create + start), runc next to
# Carapace: see scripts/bench-cri.sh.
bench-cri: build
	scripts/bench-cri.sh

validation: build
	tests/validation/run.sh -r $(CURDIR)/$(BIN) -s

# Soak (not part of make test): SOAK lifecycles (create, start, exec,
# kill, delete; one in ten with run), with fds, mounts, cgroups, state
# dirs, processes and the runtime's peak RSS checked against the baseline
# every 1,000 (tests/e2e TestSoak). About 7 lifecycles/s on a 2-core VM.
SOAK ?= 10000
soak: build
	CARAPACE_BINARY=$(CURDIR)/$(BIN) CARAPACE_SOAK=$(SOAK) $(GO) test -count=1 -timeout 0 -v -run '^TestSoak$$' ./tests/e2e/

# The cgroup v2 leg: the same binary in a VM with a pure cgroup v2
# hierarchy (this host is hybrid). See tests/vm/README.md.
test-v2: build
	tests/vm/cgroupv2.sh

# The LSM leg: AppArmor profiles and SELinux labels applied in VMs whose
# kernel (Debian's) has the LSM enabled; this host has none. See
# tests/vm/README.md.
test-lsm: build
	tests/vm/lsm.sh

# The systemd cgroup driver's leg: tests/systemd, the e2e cgroup tests
# under --systemd-cgroup, and the CRI suite (tests/cri, a subset) with
# SystemdCgroup = true and the pods in slices, in the VM booted by
# systemd, on cgroup v2 and hybrid (see tests/vm/README.md). The first run
# builds the VM's Debian image (a few minutes, once).
test-systemd: build
	tests/vm/systemd.sh

# The VM with systemd as PID 1 (run-in-vm.sh --systemd) that the systemd
# cgroup driver will be tested in: one boot per cgroup layout (v2, v1,
# hybrid). The first run builds its Debian image (a few minutes).
vm-systemd-selftest:
	tests/vm/systemd-selftest.sh

# The whole suite, as CI runs it. make stops at the first suite that fails,
# so reaching the last line means all ten (lint, unit, the speed check,
# e2e, clients, CRI, validation, cgroup v2 in a VM, the systemd driver in a
# VM, LSMs in a VM) passed.
test: lint unit bench-ci e2e clients cri validation test-v2 test-systemd test-lsm
	@echo "suites: 10 passed, 0 failed"

demo: build
	scripts/demo.sh

# The yardstick (issue 16): carapace next to crun and runc, interleaved;
# a table of medians, p90s and ratios to crun. scripts/bench/main.go says
# what each figure is. BENCH_FLAGS="-n 30 -t 5" for more samples.
bench: build
	scripts/bench.sh $(BENCH_FLAGS)

# The short form for CI (part of make test, about 20 s): fails when
# carapace's median ratio to crun, measured in the same run, is over a limit
# set about 35% above today's ratios, so that a large regression fails and
# noise does not (never an absolute time: CI machines differ and are noisy).
BENCH_CI_MAX ?= cpu/run=2.2,wall/run=2.2,wall/cswd=2.0,wall/state=2.2,wall/exec=2.4,rss/sum=4
bench-ci: build
	scripts/bench.sh -ci -n 15 -t 0 -mounts '' -max '$(BENCH_CI_MAX)' $(BENCH_FLAGS) $(CURDIR)/$(BIN) $$(command -v crun)

# Where the CPU time of a run goes, by process (CLI, init, container) and
# by what it is spent on (page faults, system calls, the Go runtime's
# start, package initialisers, JSON, allocation, ...), next to crun's:
# perf record of 50 runs; scripts/bench/profile.go says how. The binary
# keeps its symbols, which init, run from a sealed copy, cannot be
# named from otherwise.
profile:
	CGO_ENABLED=1 $(GO) build $(subst -s -w ,,$(GOFLAGS_BUILD)) -o bin/carapace-prof .
	scripts/bench.sh -profile 50 $(CURDIR)/bin/carapace-prof $$(command -v crun)

# run's CPU time with and without --systemd-cgroup, next to runc's, in the
# VM booted by systemd.
bench-systemd: build
	scripts/bench-systemd.sh

# docker run --rm wall time per runtime, under one private dockerd.
bench-docker: build
	scripts/bench-docker.sh

clean:
	rm -rf bin
