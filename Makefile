# irohspoke: every target works from a fresh clone; whatever a test needs is installed here.
GO        ?= go
PKGS      := ./...
BIN       := bin
NODE_DIR  := interop/node
CROSS     := linux/amd64 linux/arm64 linux/arm windows/amd64 darwin/arm64 freebsd/amd64
FUZZTIME  ?= 10s

.PHONY: all build test vet unit race benchcheck deps interop-deps natlab-deps cross bench demo fuzz soak clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -o $(BIN)/irohspoke ./cmd/irohspoke

## demo: the main job on an embedded default, loopback only.
demo:
	CGO_ENABLED=0 $(GO) run ./cmd/irohspoke demo

## test: vet, unit tests (fuzz seeds included), the real-iroh interop tests,
## and the race detector over the concurrent packages.
test: deps vet unit race benchcheck

# vet also checks a 32-bit build (overflowing int constants show up here
# before make cross trips on them) and that go.mod and go.sum are tidy.
vet:
	$(GO) vet $(PKGS)
	GOOS=linux GOARCH=arm GOARM=7 CGO_ENABLED=0 $(GO) vet $(PKGS)
	@$(GO) mod tidy -diff || { echo "make: go.mod/go.sum are not tidy: run 'go mod tidy'" >&2; exit 1; }
	@f=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$f" ]; then echo "make: not gofmt'ed: $$f" >&2; exit 1; fi

unit:
	CGO_ENABLED=0 $(GO) test -timeout 12m $(PKGS)

# The race detector needs cgo (gcc); the product itself stays cgo-free.
RACE_PKGS := ./quic/ ./endpoint/ ./spoke/... ./hub/ ./relay/ ./lookup/ ./wire/ ./cmd/irohspoke/ ./nat/...
race:
	CGO_ENABLED=1 $(GO) test -race -short -timeout 10m $(RACE_PKGS)

## deps: what the tests need beyond Go. The interop package refuses to run
## without them (and fails, not skips, when CI=true).
deps: interop-deps natlab-deps

interop-deps:
	@command -v node >/dev/null || { echo "make: node is required for the interop tests" >&2; exit 1; }
	@if [ -f $(NODE_DIR)/package.json ] && [ ! -d $(NODE_DIR)/node_modules/@number0/iroh ]; then \
		echo "installing interop npm modules (npm install, committed lock)"; \
		cd $(NODE_DIR) && npm install --no-audit --no-fund --loglevel=error; \
	fi

# natlab-deps: nftables and Debian's miniupnpd (nftables build) for the NAT
# labs (interop/natlab, interop/natlab/portmaplab), installed only as root.
# miniupnpd must never run in the host's namespace (the labs start it inside
# their own): the install runs under a policy-rc.d that forbids starting
# services, with RUNLEVEL=1, and a unit it might bring is stopped and
# disabled at once. With CI=true a failed or impossible install fails.
natlab-deps:
	@missing=; \
	command -v nft >/dev/null || missing="$$missing nftables"; \
	command -v miniupnpd >/dev/null || [ -x /usr/sbin/miniupnpd ] || missing="$$missing miniupnpd-nftables"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing$$missing for the NAT labs (no service is started)"; \
			policy=; \
			if [ ! -e /usr/sbin/policy-rc.d ]; then \
				printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy=1; \
			fi; \
			ok=1; \
			{ apt-get update && DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y --no-install-recommends $$missing; } || ok=; \
			if [ -n "$$policy" ]; then rm -f /usr/sbin/policy-rc.d; fi; \
			if [ -e /lib/systemd/system/miniupnpd.service ] && command -v systemctl >/dev/null; then \
				systemctl disable --now miniupnpd.service >/dev/null 2>&1 || true; \
			fi; \
			if [ -x /etc/init.d/miniupnpd ]; then \
				/etc/init.d/miniupnpd stop >/dev/null 2>&1 || true; \
				update-rc.d miniupnpd disable >/dev/null 2>&1 || true; \
			fi; \
			if [ -z "$$ok" ]; then \
				echo "make: installing$$missing failed" >&2; \
				if [ "$$CI" = true ]; then exit 1; fi; \
			fi; \
		else \
			echo "make:$$missing missing and we are not root; the NAT lab tests will skip" >&2; \
			if [ "$$CI" = true ]; then exit 1; fi; \
		fi; \
	fi

## cross: cgo-free static builds for every supported target.
cross:
	@set -e; for t in $(CROSS); do \
		os=$${t%/*}; arch=$${t#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		out=dist/irohspoke-$$os-$$arch$$ext; \
		echo "build $$out"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch GOARM=7 $(GO) build -trimpath -ldflags='-s -w' -o $$out ./cmd/irohspoke; \
		if [ $$os = linux ]; then \
			if readelf -l $$out | grep -q INTERP; then echo "$$out is dynamically linked" >&2; exit 1; fi; \
			if readelf -d $$out 2>/dev/null | grep -q NEEDED; then echo "$$out needs shared libraries" >&2; exit 1; fi; \
			echo "  static: ok ($$(stat -c %s $$out) bytes)"; \
		fi; \
	done

# benchcheck runs every benchmark for one iteration, so none rots unseen.
benchcheck:
	CGO_ENABLED=0 $(GO) test -run '^$$' -bench . -benchtime 1x $(PKGS)

## bench: every benchmark, once, with allocations.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 $(PKGS)

## soak: the long versions of the soak suites (TestSoak*: 1000 spokes for
## 10 minutes, the relay soak) and of the chaos suite (interop/chaos).
soak:
	IROHSPOKE_SOAK=1 $(GO) test -run Soak -timeout 80m ./...
	IROHSPOKE_SOAK=1 $(GO) test -run Chaos -timeout 30m ./interop/chaos/

## fuzz: run each fuzz target briefly (FUZZTIME=10s by default).
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

clean:
	rm -rf $(BIN) dist
