# tiermix: every target installs what it needs first, so each works on a fresh clone.
SHELL := /bin/bash
NODE_MODULES := node_modules/.package-lock.json
# The MMLU-Pro outcomes live beside the project and are read by path, never copied in.
TIERMIX_DATA ?= $(abspath ../shared/data/mmlu-pro)
export TIERMIX_DATA

.PHONY: all install build test unit integration demo bench clean

all: build

$(NODE_MODULES): package.json package-lock.json
	ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
	@touch $@

install: $(NODE_MODULES)

build: install
	npx tsc -p tsconfig.json

# Unit and integration tests (node's built-in test runner over the compiled tests).
test: build
	node --test --test-concurrency=1 dist/test/

demo: build
	node dist/router/cli/main.js demo

bench: build
	node dist/test/bench/run.js

clean:
	rm -rf dist
