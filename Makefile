# Two entry points (see README): `make serve` and `make test`. Everything else is a step of those.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CORPUS ?= data/speeches

.PHONY: serve test ingest eval eval-gate eval-rgb clean loadtest

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

ingest: $(STAMP)
	$(BIN)/policyqa ingest $(CORPUS)

serve: ingest
	$(BIN)/policyqa serve

test: $(STAMP)
	$(BIN)/python -m pytest

DEV_SET    ?= ../shared/eval/dev.jsonl
GATE_INDEX ?= var/gate-index
FLOORS     ?= eval/floors.json
RGB_ZH     ?= ../shared/bench/rgb_zh

# the dev set against the served index: JSON, Markdown and HTML reports in var/eval/
eval: ingest
	$(BIN)/policyqa eval $(DEV_SET) --out var/eval/dev.json

# quality gate (CI): a fresh index of $(CORPUS), the dev set, and the floors in $(FLOORS); a missing dev set
# fails unless POLICYQA_SKIP_EVAL_GATE=1 says to skip on purpose
eval-gate: $(STAMP)
	@set -e; \
	if [ ! -f "$(DEV_SET)" ]; then \
	  if [ "$${POLICYQA_SKIP_EVAL_GATE:-}" = "1" ]; then \
	    echo "eval-gate: SKIPPED on request (POLICYQA_SKIP_EVAL_GATE=1): dev set $(DEV_SET) not found"; exit 0; \
	  fi; \
	  echo "eval-gate: FAILED: dev set $(DEV_SET) not found. Point DEV_SET=... at it, or set" \
	       "POLICYQA_SKIP_EVAL_GATE=1 to skip the quality gate explicitly." >&2; exit 1; \
	fi; \
	echo "eval-gate: fresh index of $(CORPUS) in $(GATE_INDEX), then $(DEV_SET) against $(FLOORS)"; \
	$(BIN)/policyqa ingest $(CORPUS) --index $(GATE_INDEX) --rebuild; \
	$(BIN)/policyqa eval $(DEV_SET) --index $(GATE_INDEX) --out var/eval/gate.json --floors $(FLOORS)

# public retrieval benchmark (eval/BENCHMARKS.md); the index is cached in var/eval-retrieval/
eval-rgb: $(STAMP)
	$(BIN)/policyqa eval-retrieval $(RGB_ZH) --out var/eval/retrieval-rgb_zh.json

# against a server started with `POLICYQA_RATE_LIMIT_PER_MINUTE=0 make serve` (the rate limit would answer 429)
loadtest: $(STAMP)
	$(BIN)/python -m service.loadtest --url http://127.0.0.1:8000 --users 1 16 --requests 200 --json var/loadtest.json

clean:
	rm -rf var
