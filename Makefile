# fmixzoo — see README.md.
GO      ?= go
GOBIN   := $(shell $(GO) env GOPATH)/bin
export PATH := $(GOBIN):$(PATH)

.PHONY: serve test test-deps test-published bench lint fmt loadtest fuzz fuzz-short

## serve: run zoo-serve on the embedded default store (the models the repo ships), the
## PreAct-ResNet18 Fashion-MNIST zoo loaded and warm before it reports ready (ZOO_MODELS
## overrides the list; up to 8 models stay loaded, ZOO_MAX_MODELS overrides that)
SERVE_MODELS ?= preact_resnet18_fashion_baseline,preact_resnet18_fashion_mixup,preact_resnet18_fashion_cutmix,preact_resnet18_fashion_fmix,preact_resnet18_fashion_fmixplusmixup
serve:
	ZOO_MODELS="$${ZOO_MODELS-$(SERVE_MODELS)}" ZOO_MAX_MODELS="$${ZOO_MAX_MODELS-8}" $(GO) run ./cmd/zoo-serve

## loadtest: zoo-serve under 200 concurrent clients on loopback, at most 60 s: throughput,
## p50/p95/p99, errors, peak RSS, and the same model's in-process throughput
LOADTEST_BIN ?= $(or $(TMPDIR),/tmp)/zoo-serve-loadtest
loadtest:
	$(GO) build -o $(LOADTEST_BIN) ./cmd/zoo-serve
	$(GO) run ./cmd/zoo-serve/loadtest -server $(LOADTEST_BIN)

## scaletest: three zoo-serve replicas over one S3 store (versitygw) behind nginx, 100 clients for
## about a minute while a replica is SIGKILLed, each is restarted in turn and the store is stopped:
## requests, failures, wrong answers, p50/p95/p99, per-replica share, peak RSS (make test runs a
## short form)
.PHONY: scaletest
scaletest: test-deps
	$(GO) test -count=1 -v -timeout 15m -run TestFleet ./internal/scaletest -args -long

## test: install what the tests need, then run every test, then the concurrency tests under
## the race detector, then each fuzz target for 10 s (fuzz-short)
test: test-deps
	$(GO) vet ./...
	$(GO) test -timeout 20m ./...
	cd deploy/check && $(GO) test -mod=mod -timeout 15m ./...
	CGO_ENABLED=1 $(GO) test -race -timeout 10m -run 'Concurren|RunWorkers|WorkerPanic' ./engine ./kernels ./hub
	$(GO) test -tags purego -timeout 10m ./kernels
	GOARCH=arm64 $(GO) vet ./kernels
	$(MAKE) fuzz-short

## fuzz: each fuzz target for FUZZTIME (default 5m); fuzz-short, part of test, runs each for
## 10 s. One `go test -fuzz` line per target (a package's targets need a line each); inputs
## that fail land in that package's testdata/fuzz/, which every plain `go test` then runs.
FUZZTIME ?= 5m
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzPickle$$' -fuzztime $(FUZZTIME) ./internal/torchpt
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME) ./internal/torchpt
	$(GO) test -run '^$$' -fuzz '^FuzzShapes$$' -fuzztime $(FUZZTIME) ./engine
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME) ./engine
	$(GO) test -run '^$$' -fuzz '^FuzzMultipartBatch$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/server
	$(GO) test -run '^$$' -fuzz '^FuzzProgressiveJPEG$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/server
fuzz-short:
	$(MAKE) fuzz FUZZTIME=10s

test-deps:
	./scripts/install-test-deps.sh

## test-published: full-size random-weight checkpoints of the three published architectures
## (Debian python3-torch), served on loopback as the upstream, loaded by their real names
PUBLISHED_DIR ?= $(or $(TMPDIR),/tmp)/fmixzoo-published
test-published:
	command -v /usr/bin/python3 >/dev/null && /usr/bin/python3 -c 'import torch' 2>/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-torchvision >/dev/null; }
	[ -f $(PUBLISHED_DIR)/published.json ] || /usr/bin/python3 testdata/torch/gen_published.py $(PUBLISHED_DIR)
	ZOO_TEST_PUBLISHED=$(PUBLISHED_DIR) $(GO) test -count=1 -v -timeout 30m -run TestPublishedFullSize ./hub

## bench: benchmarks with ratios against references run in the same command (fmix vs numpy,
## SGEMM vs the FMA peak, engine vs ONNX Runtime, and for the five published architectures batch 1
## and batch N paired with ONNX Runtime and peak RSS at batch 1 beside its, training vs PyTorch)
bench:
	GO=$(GO) ./fmix/testdata/bench.sh
	GO=$(GO) ./scripts/bench-kernels.sh
	GO=$(GO) ./scripts/bench-engine.sh
	GO=$(GO) ./scripts/bench-archs.sh
	BENCH_STEPS=3 BENCH_ROUNDS=3 ./internal/train/bench.sh

## lint: gofmt check and go vet
lint:
	@out="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')
