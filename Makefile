# Two commands do all set-up on a fresh clone:
#   make app    bootstrap, then start the Streamlit app on the embedded default data
#   make test   bootstrap, then run the test suite
# Other targets: make bench (benchmarks against the peers), make lint.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: app test bench lint bootstrap browser clean

app: bootstrap
	$(BIN)/streamlit run app.py

test: bootstrap browser
	$(BIN)/pytest

bench: bootstrap
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/grid.py
	$(BIN)/python benchmarks/siting.py

lint: bootstrap
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bootstrap: $(VENV)/.installed static/vendor/.installed

$(VENV)/.installed: pyproject.toml
	bash scripts/bootstrap_venv.sh "$(PYTHON)" "$(VENV)"
	touch $@

static/vendor/.installed: scripts/fetch_map_assets.sh
	bash scripts/fetch_map_assets.sh static/vendor
	touch $@

# Headless Chromium for the browser tests (Debian packages); skipped quietly when
# the machine cannot install packages, and the browser tests then skip themselves.
browser:
	@bash scripts/bootstrap_browser.sh

clean:
	rm -rf $(VENV) static/vendor
