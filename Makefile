# Two things a newcomer needs, on a fresh Debian machine as root:
#   make run    build the example system and boot it in qemu
#   make test   gofmt/vet, unit tests, host-mode tests and qemu boot tests

GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -buildid= -X main.version=$(VERSION)
BIN     := bin/unit
SYSTEM  ?= examples/hello/system.toml
OUT     ?= out/hello
DEBS    := systemd openssh-client qemu-system-x86 cpio zstd kmod dpkg-dev gcc libc6-dev patch xz-utils mtools e2fsprogs squashfs-tools gdisk systemd-boot-efi ovmf
# Only the tests need these: a browser for the status page, NoCloud seeds.
TESTDEBS := chromium genisoimage

.PHONY: all build fleet deps test-deps initramfs image run test check unit-test qemu-test bench fuzz clean update-locks

all: build

# CGO_ENABLED=0: one static binary that can be /init. unit-build is the
# same main with the package and image builders (tag "builders"), which
# `unit pkg` and `unit image` run; unit, every image's PID 1, has none of
# them (docs/design.md, Rooms).
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/unit
	CGO_ENABLED=0 $(GO) build -trimpath -tags builders -ldflags '$(LDFLAGS)' -o $(BIN)-build ./cmd/unit

# The fleet's programs, kept out of unit (docs/fleet.md): the agent and
# operators' unit-fleet (NATS client), the broker's unit-fleet-server.
fleet:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o bin/unit-fleet ./cmd/unit-fleet
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o bin/unit-fleet-server ./cmd/unit-fleet-server

# Installs what builds (and, for test-deps, the tests) need from Debian, once.
deps test-deps: PKGS = $(DEBS) $(if $(filter test-deps,$@),$(TESTDEBS))
deps test-deps:
	@missing=""; for p in $(PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	elif [ ! -e /var/lib/apt/lists/lock ] || [ -z "$$(ls /var/lib/apt/lists/ | grep -v lock | head -1)" ]; then \
		apt-get update -q; \
	fi

# The kernel + initramfs in $(OUT): what `make run` boots, and no more.
# A committed pin that left Debian's archive and no cache holds is
# re-pinned first (and said; commit the lock or run make update-locks).
initramfs: deps build
	$(BIN) pkg update --stale $(wildcard packages/*.toml)
	$(BIN) image build $(SYSTEM) -o $(OUT)

# Both formats: kernel + initramfs in $(OUT), the UEFI disk in $(OUT)-disk
# (`bin/unit image run $(OUT)-disk` boots it through OVMF).
image: initramfs
	$(BIN) image build $(SYSTEM) -o $(OUT)-disk --format disk

# Re-pins every committed lock to what Debian's archive serves now (its
# security updates replace versions; the archive keeps only the newest).
update-locks: deps build
	$(BIN) pkg update $(patsubst %.lock,%.toml,$(wildcard packages/*.lock))

run: initramfs
	$(BIN) image run $(OUT)

check:
	@fmt=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$fmt" ]; then echo "gofmt needed:"; echo "$$fmt"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags builders ./cmd/unit

test: test-deps check
	$(GO) test -race -timeout 50m ./... 

# Each fuzz target for FUZZTIME (not part of make test).
FUZZTIME ?= 10m
FUZZ := cm:FuzzLoadAndValidate config:FuzzLoadLayer pkgbuild:FuzzParseRecipe supervise:FuzzNotify supervise:FuzzEnvFile api:FuzzServeConn api:FuzzFrames systemd/unitfile:FuzzUnitFile systemd/tmpfiles:FuzzTmpfiles systemd/sysusers:FuzzSysusers devlog:FuzzParse maintscript:FuzzScan
fuzz:
	@for t in $(FUZZ); do pkg=$${t%%:*}; fn=$${t#*:}; echo "== $$pkg $$fn ($(FUZZTIME))"; \
		$(GO) test ./$$pkg -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) || exit 1; done

bench: deps build
	bench/run.sh

clean:
	rm -rf bin out
