# Live onboarding console. `make` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

GO        ?= go
# The package timeout catches a hang, not slowness: cmd/onboard took 555–707 s on a machine
# whose page faults cost 12 µs (README, the suite's fifth round), 241–248 s on a quicker one.
TEST_FLAGS ?= -race -count=1 -timeout 25m

.PHONY: help run test test-short soak shots build lint generate check-generated vendor-static bench bench-all bench-signin fmt

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: ## serve the app with demo data on http://127.0.0.1:8080 (ADDR changes it)
	@./scripts/run.sh

# The brokenversion build (TestLinearizability must fail there) runs beside the others:
# cmd/onboard's tests spend most of their time waiting, so it costs little wall time.
test: check-generated lint ## run every test (unit, PostgreSQL, browser) with the race detector
	$(GO) test $(TEST_FLAGS) ./... & all=$$!; \
	$(GO) test $(TEST_FLAGS) -tags brokenversion -run TestLinearizability ./cmd/onboard/ & broken=$$!; \
	wait $$all; a=$$?; wait $$broken; b=$$?; exit $$(( a || b ))

SOAK_DURATION ?= 5m
SOAK_TESTS    ?= TestFault|TestSoak|TestWorkerKilledRepeatedly|TestLinearizability

soak: ## the soak (saves, runs, sockets, polls; PostgreSQL restarted, server SIGKILLed) and the fault tests for SOAK_DURATION (5m) each, side by side; make test runs the soak for 12 s (docs/reliability.md)
	@mkdir -p artifacts
	set -o pipefail; SOAK_DURATION=$(SOAK_DURATION) LIN_OPS_EACH=600 $(GO) test -race -count=1 -timeout 90m -tags soak -v \
		-run '$(SOAK_TESTS)' ./cmd/onboard/ ./internal/worker/ 2>&1 \
		| grep -v -e '^time=' -e 'superfluous response.WriteHeader' | tee artifacts/soak.log

shots: ## the page crawl (every page, role, width, scheme, dialog) with its screenshots in artifacts/shots/index.html, and the browser tests' own in artifacts/screenshots
	@rm -rf artifacts/shots
	CRAWL_SHOTS=$(CURDIR)/artifacts/shots TEST_SHOTS=1 $(GO) test -count=1 -timeout 20m -run 'TestPageCrawl|TestBrowser|TestInvitation' ./cmd/onboard/
	@echo "open artifacts/shots/index.html and artifacts/screenshots"

build: ## build bin/onboard
	$(GO) build -o bin/onboard ./cmd/onboard

fmt: ## format the code and regenerate templ output
	$(GO) tool templ generate
	gofmt -w $$(git ls-files '*.go')

generate: ## regenerate templ components
	$(GO) tool templ generate

check-generated: ## fail when templ output is not up to date
	@before="$$(cat $$(git ls-files '*_templ.go') | sha256sum)"; \
	$(GO) tool templ generate >/dev/null 2>&1; \
	after="$$(cat $$(git ls-files '*_templ.go') | sha256sum)"; \
	[ "$$before" = "$$after" ] || { echo "templ output was stale: regenerated, now commit it"; exit 1; }

lint: ## gofmt, go vet, and the import rule (domain packages use the standard library only)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)
	$(GO) vet ./...
	@./scripts/check-imports.sh

vendor-static: ## download and verify the vendored browser libraries (idiomorph)
	@./scripts/vendor-static.sh

bench: ## run the fanout load test against a server it starts itself
	$(GO) run ./cmd/onboard bench fanout -serve

bench-all: ## every fanout scenario of docs/benchmarks.md, one after another, and their table (scripts/bench-all.sh)
	@./scripts/bench-all.sh

bench-signin: ## flood sign-ins against a server it starts itself and report its memory (docs/reliability.md)
	$(GO) run ./cmd/onboard bench signin -clients 32 -duration 15s
