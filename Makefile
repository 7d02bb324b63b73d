# batchcheck: `make report` and `make test` set everything up themselves (a .venv here).
# Pass-through variables: ROOT=, DATASET=, BATCH=, VERBOSE=1, FORMAT=, and per target P=, A=, B=.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

BC      = $(BIN)/batchcheck $(if $(ROOT),--root "$(ROOT)")
FMT     = $(if $(FORMAT),--format "$(FORMAT)")
DS      = $(if $(DATASET),--dataset "$(DATASET)")
VERB    = $(if $(filter 1 yes true,$(VERBOSE)),--verbose)
DRY     = $(if $(filter 1 yes true,$(DRY_RUN)),--dry-run)

.PHONY: help install test test-long fuzz lint format report check list-batches list-batch-experiments \
        list-shared-experiments list-data-paths resolve-data-path compare-experiments \
        fingerprint check-configs bench plan link add walkthrough mv gc fix diff demo-store clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 26

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install batchcheck with its dev tools

test: $(STAMP) ## run the test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-long: $(STAMP) ## the long tests too (the Markdown summary of a generated 100k store)
	BATCHCHECK_LONG=1 $(BIN)/python -m pytest $(PYTEST_ARGS) tests/report

fuzz: $(STAMP) ## the property-based suite with many fresh examples (EXAMPLES=2000)
	BATCHCHECK_FUZZ_EXAMPLES=$(or $(EXAMPLES),2000) $(BIN)/python -m pytest $(PYTEST_ARGS) tests/test_properties.py

lint: $(STAMP) ## ruff (lint + format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP) ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

report: $(STAMP) ## write reports/index.md (and .html) for the store
	$(BC) report $(if $(OUTPUT),--output "$(OUTPUT)") $(FMT)

list-batches: $(STAMP) ## list every batch (VERBOSE=1 for experiments)
	$(BC) list-batches $(VERB) $(FMT)

list-batch-experiments: $(STAMP) ## experiments of BATCH=... (DATASET=, VERBOSE=1)
	@test -n "$(BATCH)" || { echo "make list-batch-experiments BATCH=batch_... [DATASET=...] [VERBOSE=1]" >&2; exit 2; }
	$(BC) list-batch-experiments "$(BATCH)" $(DS) $(VERB) $(FMT)

list-shared-experiments: $(STAMP) ## physical experiments in _shared (DATASET=, VERBOSE=1)
	$(BC) list-shared-experiments $(DS) $(VERB) $(FMT)

list-data-paths: $(STAMP) ## training data paths (BATCH=, DATASET=, FORMAT=yaml)
	$(BC) list-data-paths $(if $(BATCH),--batch "$(BATCH)") $(DS) $(FMT)

resolve-data-path: $(STAMP) ## batch path <-> shared path of P=...
	@test -n "$(P)" || { echo "make resolve-data-path P=path/in/the/store" >&2; exit 2; }
	$(BC) resolve-data-path "$(P)" $(FMT)

compare-experiments: $(STAMP) ## compare A=Dataset/exp with B=Dataset/exp
	@test -n "$(A)" -a -n "$(B)" || { echo "make compare-experiments A=Copa/x B=Copa/y" >&2; exit 2; }
	$(BC) compare-experiments --shared "$(A)" --shared "$(B)" $(FMT)

fingerprint: $(STAMP) ## fingerprint of FILE=metadata.json or params.yaml
	@test -n "$(FILE)" || { echo "make fingerprint FILE=..." >&2; exit 2; }
	$(BC) fingerprint "$(FILE)" $(FMT)

plan: $(STAMP) ## reuse vs generate for SWEEP=... BATCH=... (APPLY=1 links, DRY_RUN=1)
	@test -n "$(SWEEP)" -a -n "$(BATCH)" || { echo "make plan SWEEP=sweep.yaml BATCH=batch_YYYYMMDD_purpose [APPLY=1]" >&2; exit 2; }
	$(BC) plan "$(SWEEP)" --batch "$(BATCH)" $(if $(filter 1 yes true,$(APPLY)),--apply) $(DRY) $(FMT)

link: $(STAMP) ## link EXPS="Copa/x Copa/y" into BATCH=... (DRY_RUN=1)
	@test -n "$(BATCH)" -a -n "$(EXPS)" || { echo 'make link BATCH=batch_YYYYMMDD_purpose EXPS="Copa/x Copa/y"' >&2; exit 2; }
	$(BC) link "$(BATCH)" $(EXPS) $(DRY) $(FMT)

add: $(STAMP) ## register generated data EXP=Copa/x FROM=dir METADATA=plan.yaml (BATCH=, COPY=1, DRY_RUN=1)
	@test -n "$(EXP)" -a -n "$(FROM)" -a -n "$(METADATA)" || { echo 'make add EXP=Copa/x FROM=dir METADATA=plan.yaml [BATCH=batch_...] [COPY=1] [DRY_RUN=1]' >&2; exit 2; }
	$(BC) add "$(EXP)" --from "$(FROM)" --metadata "$(METADATA)" $(if $(BATCH),--batch "$(BATCH)") $(if $(filter 1 yes true,$(COPY)),--copy) $(DRY) $(FMT)

walkthrough: $(STAMP) ## the README's loop on a copy of the example store (DEST=build/walkthrough)
	BATCHCHECK=$(BIN)/batchcheck PYTHON=$(BIN)/python DEST="$(or $(DEST),build/walkthrough)" sh examples/walkthrough.sh

mv: $(STAMP) ## rename EXP=Dataset/old to NEW=name and its links (CONFIGS=1, DRY_RUN=1)
	@test -n "$(EXP)" -a -n "$(NEW)" || { echo 'make mv EXP=Copa/old NEW=new_name [CONFIGS=1] [DRY_RUN=1]' >&2; exit 2; }
	$(BC) mv "$(EXP)" "$(NEW)" $(if $(filter 1 yes true,$(CONFIGS)),--configs) $(DRY) $(FMT)

gc: $(STAMP) ## orphans and their sizes (ARCHIVE=DIR moves them out, DELETE=1 YES=1 removes them)
	$(BC) gc $(if $(ARCHIVE),--archive "$(ARCHIVE)") $(if $(filter 1 yes true,$(DELETE)),--delete) $(if $(filter 1 yes true,$(YES)),--yes) $(FMT)

fix: $(STAMP) ## repair batch links (check --fix: BC103, BC104, BC106, untidy targets), then check
	$(BC) check --fix $(FMT)

diff: $(STAMP) ## what `make fix` would change (check --diff), nothing written
	$(BC) check --diff $(FMT)

demo-store: ## a scratch copy of the example store to try mv, gc and fix on (DEST=build/demo)
	$(PYTHON) examples/demo_store.py "$(or $(DEST),build/demo)"

check: $(STAMP) ## check the store: every BC rule (ROOT=, FORMAT=text|json|github, STRICT=1, NO_DATA=1)
	$(BC) check $(FMT) $(if $(filter 1 yes true,$(STRICT)),--strict) $(if $(filter 1 yes true,$(NO_DATA)),--no-data)

check-configs: $(STAMP) ## store paths named in training configs FILES="a.yaml b.json"
	@test -n "$(FILES)" || { echo 'make check-configs FILES="configs/train.yaml ..."' >&2; exit 2; }
	$(BC) check-configs $(FILES) $(FMT)

bench: $(STAMP) ## time every command against its yardstick (SIZE=, SIZES=, SHAPES=own,wide,grouped; NETFS=1 DELAY_US= NET_SIZE=)
	$(BIN)/python benchmarks/run.py --sizes $(or $(SIZES),$(SIZE),100000) --shapes $(or $(SHAPES),own) \
	  --repeat $(or $(REPEAT),3) $(if $(filter 1 yes true,$(NETFS)),--netfs --delay-us $(or $(DELAY_US),1000) --net-size $(or $(NET_SIZE),10000))

clean: ## remove the venv, caches and generated reports
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
	find reports -mindepth 1 ! -name README.md ! -name .gitignore -exec rm -rf {} +
