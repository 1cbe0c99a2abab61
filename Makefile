# coderunner — the commands a user runs. Meson does the building; this file installs
# what is missing and drives it.

BUILD ?= build
BUILD_SAN ?= build-san
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
MESON_OPTS ?=

BUILD_PKGS := gcc meson ninja-build pkg-config libseccomp-dev libzip-dev libsodium-dev libsqlite3-dev libpq-dev libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev libhiredis-dev libmongoc-dev
# What the sandbox runs besides itself: networked runs (enable_network) get their egress from
# pasta (passt) and their filter from nft (nftables); the tests build namespaces with ip.
SANDBOX_PKGS := passt nftables iproute2
# nginx, openssl and curl: the edge test (deploy/nginx) runs nginx with a CA it makes;
# python3-yaml: the Kubernetes manifests test (deploy/k8s) parses them; systemd: its
# systemd-analyze checks the units of deploy/systemd (no systemd as PID 1 needed); ruby: the
# API parity test checks its table of base64 inputs against Ruby's own Base64.decode64 (what
# Judge0 uses).
TEST_PKGS := python3 python3-pytest python3-requests clang-format postgresql redis-server nginx openssl curl python3-yaml systemd ruby
BENCH_PKGS := bubblewrap postgresql redis-server
# What `make test-vm` needs: the emulator, and a static busybox for the guest's initramfs
# (the guest's kernel is Debian's, fetched by the test with apt-get download into its cache).
VM_PKGS := qemu-system-x86 busybox-static
# The Docker Compose topology (deploy/compose) and its test (tests/deploy): Debian's Docker
# and Compose; debootstrap makes the base image where no registry is reachable.
DEPLOY_PKGS := docker.io docker-compose debootstrap openssl curl
# What `make cluster` runs besides coderunner; `cluster up --hosts` (CLUSTER_ARGS=--hosts)
# makes its network namespaces with ip and their filters with nft.
CLUSTER_PKGS := postgresql redis-server iproute2 nftables

.PHONY: all build run service-user cluster web test test-vm test-deploy compose-context compose-up compose-down check-style bench deps-build deps-test deps-vm deps-bench deps-web deps-web-e2e deps-deploy clean

all: build

# Install the Debian packages named in $(1) that are missing.
define apt_install
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps-build:
	$(call apt_install,$(BUILD_PKGS) $(SANDBOX_PKGS))

# Python packages that Debian does not have (tests/requirements.txt: the Judge0 SDK), with
# the python3 that runs the tests. pip comes from Debian when that python3 has none; PEP 668's
# --break-system-packages only for a python3 that is marked externally managed (Debian's).
deps-test: deps-build
	$(call apt_install,$(TEST_PKGS))
	@python3 -m pip --version >/dev/null 2>&1 || { \
		echo "installing: python3-pip"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip; }
	@if python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))'; \
	then brk=--break-system-packages; else brk=; fi; \
	env PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check $$brk -r tests/requirements.txt
	@# The metadata store's MongoDB tests run against FerretDB (MongoDB is not in Debian):
	@# built once from the Go module proxy, cached in ~/.cache/coderunner/.
	@ferretdb=$$(tools/build-ferretdb) && echo "FerretDB: $$ferretdb"

# The web IDE needs Node.js and npm: Debian's, unless the machine already has them.
deps-web:
	@command -v npm >/dev/null 2>&1 || { \
		echo "installing: nodejs npm"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm; }

# The browser tests of the IDE drive Debian's Chromium (never a downloaded browser).
deps-web-e2e:
	$(call apt_install,chromium)

deps-vm:
	$(call apt_install,$(VM_PKGS))

deps-deploy:
	$(call apt_install,$(DEPLOY_PKGS))

deps-bench: deps-build
	$(call apt_install,$(BENCH_PKGS))

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: deps-build $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD_SAN)/build.ninja:
	meson setup $(BUILD_SAN) -Db_sanitize=address,undefined -Db_lundef=false

# The web IDE's static export (web/out), which `coderunner serve` serves at /.
web: deps-web
	cd web && { [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; }
	cd web && npm run --silent build

# coderunner serve on port 2358: the Judge0-compatible API, with the web IDE at /.
# serve gives up root once started (only its sandbox supervisor keeps it) and becomes the
# system user $(SERVICE_USER), made here when missing; its data lives in $(DATA_DIR).
SERVICE_USER ?= coderunner
DATA_DIR ?= /var/lib/coderunner
service-user:
	@id -u $(SERVICE_USER) >/dev/null 2>&1 || { echo "adding the system user $(SERVICE_USER)"; \
		$(SUDO) useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin $(SERVICE_USER); }

run: build languages web service-user
	@echo
	@echo "coderunner: the API and the web IDE on http://localhost:2358/ (Ctrl+C stops it)"
	@echo "  curl -s -X POST 'http://localhost:2358/submissions?wait=true' -H 'Content-Type: application/json' \\"
	@echo "       -d '{\"source_code\": \"print(42)\", \"language_id\": 71}'"
	@echo
	$(SUDO) $(BUILD)/coderunner serve --port=2358 --data-dir=$(DATA_DIR) --user=$(SERVICE_USER)

# The cluster topology on this machine (Redis, PostgreSQL, FerretDB when built, 2 API nodes,
# 2 workers, a gateway on CLUSTER_PORT), in the foreground: Ctrl+C brings it down; its data,
# keys and secrets stay in CLUSTER_DIR for the next time. A key for it:
#   sudo build/coderunner gateway keys create --config=$(CLUSTER_DIR)/config/gateway-1.conf --name=NAME
# PostgreSQL runs as nobody, so CLUSTER_DIR's parents must be enterable by every user.
CLUSTER_DIR ?= /var/tmp/coderunner-cluster
CLUSTER_PORT ?= 2358
# More options of cluster up, e.g. CLUSTER_ARGS=--hosts (a network namespace per role).
CLUSTER_ARGS ?=
cluster: build languages
	$(call apt_install,$(CLUSTER_PKGS))
	$(SUDO) $(BUILD)/coderunner cluster up --dir=$(CLUSTER_DIR) --port=$(CLUSTER_PORT) --foreground $(CLUSTER_ARGS)

# The whole suite: style, unit tests, integration tests; then the same under ASan+UBSan.
test: deps-test deps-web deps-web-e2e deps-deploy languages build check-style
	tools/run-tests $(BUILD) $(BUILD_SAN)

# The sandbox suites on a pure cgroup v2 kernel in a qemu guest (TCG, no KVM), against this
# build: tests/vm/README.md. About 9-13 minutes on 2 shared cores; the kernel is cached in
# ~/.cache/coderunner/vm (CODERUNNER_VM_CACHE) after the first run.
test-vm: deps-test deps-vm build
	$(SUDO) python3 -m pytest -q -s -p no:cacheprovider tests/vm

# The Compose topology built and run for real on a dockerd of the test's own (temporary data
# root, its cgroups below the test's, no iptables changes, networks in 198.18.0.0/15): the
# base image from debootstrap (cached in ~/.cache/coderunner), the images, a smoke suite
# through the public entry only, then everything taken down. tests/deploy/README.md.
# The IDE's export is built when missing (make web).
WEB_OUT = $(if $(wildcard web/out/index.html),,web)
test-deploy: deps-test deps-deploy build $(WEB_OUT)
	$(SUDO) env CODERUNNER_BUILD=$(abspath $(BUILD)) python3 -m pytest -q -s -p no:cacheprovider tests/deploy

# The Compose topology on this machine's Docker (deploy/compose, docs/DEPLOYMENT.md): the
# images' build context, certificate and secrets in COMPOSE_DIR (kept, with the data
# volumes, for the next `compose-up`); the edge on https://127.0.0.1:$(COMPOSE_PORT)/.
COMPOSE_DIR ?= $(BUILD)/compose
COMPOSE_PORT ?= 8443
COMPOSE = $(SUDO) docker-compose --project-name coderunner --env-file $(COMPOSE_DIR)/compose.env \
	-f deploy/compose/docker-compose.yml
compose-context: build $(WEB_OUT)
	CODERUNNER_COMPOSE_PORT=$(COMPOSE_PORT) $(SUDO) deploy/compose/make-context $(COMPOSE_DIR) $(BUILD)

compose-up: deps-deploy compose-context
	$(COMPOSE) up -d --build
	@echo "coderunner: https://127.0.0.1:$(COMPOSE_PORT)/ (a self-signed certificate: $(COMPOSE_DIR)/tls); a key:"
	@echo "  $(COMPOSE) exec gateway coderunner gateway keys create --name=NAME --scope=submit,read"

compose-down:
	$(COMPOSE) down

check-style:
	tools/check-style
	tools/check-includes

bench: deps-bench build
	$(SUDO) python3 bench/run.py --build $(BUILD)

# Every language of the catalogue (languages/*/language.conf, key "packages"): its Debian
# packages. On the project's machine image: ~640 MB to download, ~3 GB of disk, ~70 s;
# more on a bare Debian 12 (see languages/README.md).
LANGUAGE_PKGS = $(shell sed -n 's/^packages *= *//p' languages/*/language.conf | tr ' ' '\n' | sort -u)

.PHONY: languages
languages: deps-web
	$(call apt_install,$(LANGUAGE_PKGS))
	@# Toolchains newer than Debian's, from a registry this project already uses (npm, the Go module proxy, Maven Central):
	@# each languages/*/install installs its pinned release (nothing when it is there).
	@for f in languages/*/install; do $(SUDO) $$f || exit 1; done

clean:
	rm -rf $(BUILD) $(BUILD_SAN)
