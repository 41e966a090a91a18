# SwiftTML — see README.md.
SWIFT ?= swift
CONFIG ?= release
ROUNDS ?= 3

.PHONY: deps build test demo bench bench-compare clean proto

deps:
	bash scripts/install-deps.sh

build: deps
	$(SWIFT) build -c $(CONFIG) --product tml

# Quick start 1: the For You pipeline on a simulated network (docs/demo.md): TwHIN, the
# Heavy Ranker, an explained feed and its NDCG@10; everything lands in runs/demo/.
# Options: make demo DEMO_ARGS="--users 4000 --seed 7".
DEMO_ARGS ?=
demo: build
	$$($(SWIFT) build -c $(CONFIG) --show-bin-path)/tml demo --out runs/demo $(DEMO_ARGS)

# Quick start 2: install system libraries, then the whole test suite (debug build).
test: deps
	$(SWIFT) test

bench: build
	$$($(SWIFT) build -c $(CONFIG) --show-bin-path)/tml bench

# The README's Heavy Ranker table: SwiftTML, SwiftTML on OpenBLAS, PyTorch (if installed), alternating rounds.
bench-compare: build
	bash bench/compare_recap.sh $(ROUNDS)

clean:
	rm -rf .build

# Regenerates the committed protobuf code (tf.Example, TensorBoard events, ONNX) from Protos/.
# Needs protoc (apt: protobuf-compiler); builds protoc-gen-swift at the swift-protobuf
# version in Package.swift into .build-protoc (a few minutes, once). Normal builds never run this.
PROTOBUF_VERSION ?= 1.39.0
proto:
	command -v protoc >/dev/null || (echo "install protoc: apt-get install protobuf-compiler" && exit 1)
	test -d .build-protoc/swift-protobuf || git clone -q --branch $(PROTOBUF_VERSION) https://github.com/apple/swift-protobuf .build-protoc/swift-protobuf
	cd .build-protoc/swift-protobuf && $(SWIFT) build -c release --product protoc-gen-swift
	protoc --plugin=protoc-gen-swift=.build-protoc/swift-protobuf/.build/release/protoc-gen-swift \
	  --swift_opt=Visibility=Public --swift_out=Sources/TMLData/Proto -I Protos Protos/example.proto Protos/event.proto
	protoc --plugin=protoc-gen-swift=.build-protoc/swift-protobuf/.build/release/protoc-gen-swift \
	  --swift_opt=Visibility=Public --swift_out=Sources/TMLONNX/Proto -I Protos Protos/onnx.proto
