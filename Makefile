# Sonda. `make demo` runs it, `make test` tests it; both install what is missing first.
APT_PACKAGES := libcurl4-openssl-dev libssl-dev openssl curl nginx-light libnginx-mod-http-echo python3 libsqlite3-dev prometheus prometheus-alertmanager chromium postgresql-15 sqlite3 python3-cryptography python3-jsonschema tinyproxy microsocks dpkg-dev nftables
# The demo needs only these: the libraries the binaries link, and what scripts/demo and
# scripts/tls-lab run (openssl, nginx with the echo module, python3, curl). Installing them alone
# instead of all of APT_PACKAGES (Chromium, PostgreSQL, Prometheus...) is most of a first run's
# package time (docs/performance.md, "First run").
DEMO_PACKAGES := libcurl4-openssl-dev libssl-dev libsqlite3-dev openssl curl nginx-light libnginx-mod-http-echo python3
BENCH_PACKAGES := valgrind linux-perf
# From PyPI, for the tests: schemathesis checks docs/openapi.yaml against the running aggregator.
PIP_PACKAGES := schemathesis==4.32.5
SWIFT ?= swift

.PHONY: deps test-deps demo-deps demo-build build test demo bench fuzz faults soak package clean

deps:
	@missing=$$(for p in $(APT_PACKAGES) $(EXTRA_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

test-deps: deps
	@python3 -m pip show -q $(firstword $(subst ==, ,$(PIP_PACKAGES))) >/dev/null 2>&1 || \
		python3 -m pip install -q $(PIP_PACKAGES) 2>/dev/null || python3 -m pip install -q --break-system-packages $(PIP_PACKAGES)

build: deps
	$(SWIFT) build

# Suites that assert on time run after the rest, one test at a time, so a busy machine does not
# decide them; so does the one that holds every thread of the concurrency pool.
TIMING_SUITES := ProbeTimingTests|LinkShaperTests|ShapingMemoryTests|ProfileCommandTests|AgentDaemonTests|ProbeCommandTests|DemoTests|DeliveryRetryTests|FaultScenarios|AgentHealthWithStuckPoolTests|AgentScrapeDeadlineTests|HostileTargetTests

# One build of everything the tests need, then both phases without building: `swift test` left
# to build by itself after a `swift build` recompiled about 115 files of Hummingbird's modules
# on every run, so a second `make test` rebuilt them although nothing had changed.
# generate-manual (swift-argument-parser's man page tool) is for the package test (PackageInstallTests).
# scripts/test-watchdog prints every thread of a phase that stops printing, then fails it.
test: test-deps
	$(SWIFT) build --product generate-manual
	$(SWIFT) build --build-tests
	scripts/test-scratch scripts/test-watchdog $(SWIFT) test --disable-xctest --skip-build --skip '$(TIMING_SUITES)'
	scripts/test-scratch scripts/test-watchdog $(SWIFT) test --disable-xctest --skip-build --no-parallel --filter '$(TIMING_SUITES)'


# The demo installs only what it needs and builds only the two binaries it runs, not the
# benchmarks and test tools. bench/first-run.sh times these steps from a fresh clone.
demo-deps: APT_PACKAGES = $(DEMO_PACKAGES)
demo-deps: deps
demo-build: demo-deps
	$(SWIFT) build --product sonda-agent
	$(SWIFT) build --product sonda-aggregator
demo: demo-build
	scripts/demo

# Benchmarks use the binary as shipped: release, with the Swift runtime linked statically.
bench: EXTRA_PACKAGES = $(BENCH_PACKAGES)
bench: deps
	$(SWIFT) build -c release --product sonda-agent --static-swift-stdlib
	for product in config-bench sonda-aggregator ingest-baseline postgres-ingest-baseline ingest-steps budget-query-bench alert-replay-bench status-page-bench; do \
		$(SWIFT) build -c release --product $$product || exit 1; done
	SONDA_AGENT=$$($(SWIFT) build -c release --show-bin-path)/sonda-agent bench/run

# Coverage-guided fuzzing with libFuzzer, 1 000 000 inputs per target (scripts/fuzz; the tests
# run 20 000 seeded ones of the batch reader and signature header).
fuzz: deps
	scripts/fuzz

# Debian packages in dist/ (docs/packages.md): release builds with the Swift runtime linked statically.
package: APT_PACKAGES = libcurl4-openssl-dev libssl-dev libsqlite3-dev dpkg-dev
package: deps
	for product in sonda-agent sonda-aggregator generate-manual; do \
		$(SWIFT) build -c release --static-swift-stdlib --product $$product || exit 1; done
	scripts/package-debs --bin-dir $$($(SWIFT) build -c release --static-swift-stdlib --show-bin-path) --out dist

# Issue 19's fault scenarios at full length (docs/reliability.md), one at a time, then one table of
# their figures. Root only (network namespaces, tmpfs mounts), as CI runs; the debug build `make test` uses.
FAULTS_REPORT := .build/faults.jsonl
faults: deps
	@[ "$$(id -u)" = 0 ] || { echo "make faults needs root (network namespaces, TUN devices, tmpfs mounts)"; exit 77; }
	$(SWIFT) build --build-tests
	rm -f $(FAULTS_REPORT)
	SONDA_FAULTS=full SONDA_FAULTS_REPORT=$(CURDIR)/$(FAULTS_REPORT) scripts/test-scratch $(SWIFT) test --disable-xctest --skip-build \
		--no-parallel --filter FaultScenarios; status=$$?; faults/table $(FAULTS_REPORT) || status=1; exit $$status

# Issue 19's soak (docs/reliability.md): an agent with 200 checks every 10 s and an aggregator taking
# 2 000 results/s with retention pruning, SOAK_MINUTES long (60); samples, summary and SVG plots in
# $(SOAK_REPORT). The debug build, as `make faults`.
SOAK_MINUTES ?= 60
SOAK_REPORT := .build/soak
soak: deps
	$(SWIFT) build --product sonda-agent
	$(SWIFT) build --product sonda-aggregator
	faults/soak --minutes $(SOAK_MINUTES) --bin-dir $$($(SWIFT) build --show-bin-path) --out $(SOAK_REPORT)

clean:
	rm -rf .build .build-* dist
