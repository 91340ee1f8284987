# Two commands do all set-up from a fresh clone with only python3: `make book` and `make test`.
PRESET ?= cpu
SCHEDULER ?=
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install book test lab bench gpu-check ladders clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

## book: execute every chapter at PRESET (default cpu) with papermill, then build the HTML book;
## SCHEDULER=local (a Dask LocalCluster) or SCHEDULER=tcp://host:8786 runs every sweep on Dask
book: install
	$(BIN)/python -m softleak.book execute --preset $(PRESET) $(if $(SCHEDULER),--scheduler $(SCHEDULER))
	$(BIN)/python -m softleak.book scoreboard --preset $(PRESET)
	$(BIN)/jupyter-book build . -W -n --keep-going -q
	@echo "The book: $(CURDIR)/_build/html/index.html"

## test: unit tests, every notebook at the smoke preset (nbmake), a smoke build of the book;
## one pytest worker per core (pytest-xdist), each on one thread so that the workers do not oversubscribe the cores
test: install
	OMP_NUM_THREADS=1 SOFTLEAK_PRESET=smoke SOFTLEAK_RESULTS_DIR=$$(mktemp -d) $(BIN)/python -m pytest tests notebooks \
		--nbmake --nbmake-timeout=300 -p no:cacheprovider -n auto --dist worksteal

## ladders: the failing claims' ladders (softleak.ladders), too costly for the book's cpu budget: run once, committed as
## ladders/<stem>.json, read by the pages (which warn when the code has changed since); ONLY=<stem> for one chapter
ladders: install
	$(BIN)/python -m softleak.ladders build $(if $(ONLY),--only $(ONLY))

## lab: JupyterLab on the source notebooks
lab: install
	$(BIN)/jupyter lab notebooks

## bench: ensemble trainer speed against a one-model-at-a-time loop, and GFLOP/s of a large epoch
bench: install
	$(BIN)/python benchmarks/trainer.py

## gpu-check: every chapter at smoke on CUDA against a CPU run of the same seeds (skips without a GPU)
gpu-check: install
	SOFTLEAK_RESULTS_DIR=$$(mktemp -d) $(BIN)/python scripts/gpu_check.py

clean:
	rm -rf _build book/chapters book/scoreboard.md results
