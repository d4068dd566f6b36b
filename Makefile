# Two commands do all set-up on a fresh clone:
#   make app    bootstrap, then start the Streamlit app on the embedded default data
#   make test   bootstrap, then run the test suite
# Other targets: make bench (benchmarks against the peers), make lint, make docs (the
# documentation site, built offline into site/; open site/index.html).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: app test bench lint docs bootstrap browser clean

app: bootstrap
	$(BIN)/ewaste-tracker app

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

# --strict: a broken link, a missing page or a docstring mkdocstrings cannot read fails the build
docs: bootstrap
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

bootstrap: $(VENV)/.installed static/vendor/.ewaste-tracker-version

$(VENV)/.installed: pyproject.toml
	bash scripts/bootstrap_venv.sh "$(PYTHON)" "$(VENV)"
	touch $@

# the map assets beside app.py, for `streamlit run app.py` (copied from the package)
static/vendor/.ewaste-tracker-version: $(VENV)/.installed ewaste_tracker/__init__.py
	$(BIN)/python -c "from ewaste_tracker.app.launch import prepare_static; prepare_static('static')"
	touch $@

# Headless Chromium for the browser tests (Debian packages); skipped quietly when
# the machine cannot install packages, and the browser tests then skip themselves.
browser:
	@bash scripts/bootstrap_browser.sh

clean:
	rm -rf $(VENV) static/vendor site
