# Two entry points (see README): `make serve` and `make test`. Everything else is a step of those.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CORPUS ?= data/speeches

.PHONY: serve test ingest eval bench clean

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

clean:
	rm -rf var
