# Two entry points (see README): `make serve` and `make test`. Everything else is a step of those.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CORPUS ?= data/speeches

.PHONY: serve test ingest eval bench clean loadtest

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

eval: ingest
	$(BIN)/policyqa eval ../shared/eval/dev.jsonl --out var/eval/dev.json

# against a server started with `POLICYQA_RATE_LIMIT_PER_MINUTE=0 make serve` (the rate limit would answer 429)
loadtest: $(STAMP)
	$(BIN)/python -m service.loadtest --url http://127.0.0.1:8000 --users 1 16 --requests 200 --json var/loadtest.json

clean:
	rm -rf var
