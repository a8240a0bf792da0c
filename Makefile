# tiermix: every target installs what it needs first, so each works on a fresh clone.
SHELL := /bin/bash
NODE_MODULES := node_modules/.package-lock.json
# The MMLU-Pro outcomes live beside the project and are read by path, never copied in.
TIERMIX_DATA ?= $(abspath ../shared/data/mmlu-pro)
export TIERMIX_DATA

.PHONY: all install build test unit integration demo bench clean k8s-binaries test-k8s manifests

all: build

$(NODE_MODULES): package.json package-lock.json
	ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
	@touch $@

install: $(NODE_MODULES)

build: install
	npx tsc -p tsconfig.json

# Unit and integration tests (node's built-in test runner over the compiled tests). The Kubernetes tests run on a real
# kube-apiserver, so `test` first makes sure its binaries are built (once; a no-op afterwards).
test: build k8s-binaries
	node --test --test-concurrency=1 dist/test/

# kube-apiserver, kube-controller-manager and kube-scheduler v1.20.2 (plus Debian's etcd) for the Kubernetes tests,
# built from Debian's source package into ${TIERMIX_CACHE_DIR:-~/.cache/tiermix}/k8s-v1.20.2/bin: about 7 min the
# first time, skipped when already built. See docs/testing-kubernetes.md.
k8s-binaries:
	bash test/k8s/build-control-plane.sh

# Only the tests that run on the real control plane.
test-k8s: build k8s-binaries
	node --test --test-concurrency=1 dist/test/integration/k8s/

demo: build
	node dist/router/cli/main.js demo

# The router benchmark (about 3 min, real processes; its closed-loop load runs on wrk, installed here), express's cost to the garbage collector (about 1 min),
# then the autoscaling simulation (about 2 min, deterministic). All write dated reports to docs/benchmarks/ (see its README).
bench: build
	@command -v wrk >/dev/null || { echo "installing wrk (Debian package): the closed-loop load generator of the router benchmark"; \
	  (apt-get update -qq && apt-get install -y -qq wrk >/dev/null) || echo "wrk could not be installed: the router benchmark uses autocannon"; }
	node dist/test/bench/run.js
	node dist/test/bench/express-gc.js
	node dist/test/bench/autoscale/run.js

# Plain YAML rendered from charts/tiermix: manifests/tiermix.yaml (default values), manifests/crds/ and example
# ModelCascades in manifests/examples/. A chart test fails when these differ from a fresh render.
manifests: install
	bash manifests/render.sh

clean:
	rm -rf dist
