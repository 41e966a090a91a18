# SwiftTML — see README.md.
SWIFT ?= swift
CONFIG ?= release

.PHONY: deps build test demo bench clean

deps:
	bash scripts/install-deps.sh

build: deps
	$(SWIFT) build -c $(CONFIG) --product tml

# Quick start 1: for now a short benchmark of the engine (the For You demo replaces it).
demo: build
	$$($(SWIFT) build -c $(CONFIG) --show-bin-path)/tml bench --quick

# Quick start 2: install system libraries, then the whole test suite (debug build).
test: deps
	$(SWIFT) test

bench: build
	$$($(SWIFT) build -c $(CONFIG) --show-bin-path)/tml bench

clean:
	rm -rf .build
