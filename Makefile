# make run   : set up .venv (first time) and serve the app on http://127.0.0.1:8501 with the shipped models
# make test  : same set-up, then the whole suite (unit, integration, app, real-browser tests)
# make bench : page render, interaction and concurrency numbers for this machine (not pass/fail)
# make ship  : retrain the cpu presets and refresh assets/checkpoints (the only way shipped models change)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8501
STAMP  := $(VENV)/.installed

.PHONY: setup run test bench ship

setup: $(STAMP)

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.txt
	# The first import of umap compiles its numba code (about 25 s): done here, not on a user's first click.
	$(BIN)/python -c "import torch, streamlit, safetensors, mlxtend, playwright, gensim, umap, plotly, segno; print('environment ready: torch', torch.__version__)"
	# The pretrained photo models' files, checked against their sha256 before anyone uploads a photo.
	$(BIN)/python -c "from engine.models import vision; vision.load(); print('photo models verified')"
	touch $(STAMP)

run: setup
	$(BIN)/python -m app.serve --server.address $(HOST) --server.port $(PORT)

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python -m tests.bench.run

ship: setup
	$(BIN)/python -m engine warmup --preset cpu --ship
