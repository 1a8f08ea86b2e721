# taxi: the hub and its operations kit. `make run` starts a hub that needs
# nothing else; `make test` runs every test.

GO          ?= go
BIN         ?= bin/taxi
ADDR        ?= 127.0.0.1:8080
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT      ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS      = -X github.com/taxi-hub/taxi/server.Version=$(VERSION) -X github.com/taxi-hub/taxi/server.Commit=$(COMMIT) -X main.commit=$(COMMIT)
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
PREFIX      ?= /usr/local
DESTDIR     ?=
IMAGE       ?= taxi:$(VERSION)
CONTAINER   ?= docker

.PHONY: build run test test-deps bench lint perf clean install image

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/taxi

# Installs bin/taxi as $(DESTDIR)$(PREFIX)/bin/taxi, where the systemd unit in
# scripts/deploy expects it with the default PREFIX.
install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/taxi

# The container image of the Dockerfile, stamped with this checkout's
# version and commit (the build context leaves .git out).
image:
	$(CONTAINER) build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) -t $(IMAGE) .

# One node in memory mode, no authentication: for trying the API locally.
run: build
	./$(BIN) serve --insecure --memory --addr $(ADDR)

# Every test, with the race detector. Redis-backed tests start their own
# redis-server processes; test-deps installs redis-server where it can.
test: test-deps
	$(GO) test -race -count=1 -timeout 20m ./...

test-deps:
	@scripts/install-test-deps.sh

# Go benchmarks of the hot paths.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# The performance table of docs/performance.md, measured with taxi bench.
perf: build
	scripts/perf.sh

clean:
	rm -rf bin
