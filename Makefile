# Two commands matter: `make run` and `make test`. Everything else is a step they depend on.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench lock clean system-deps

run: $(STAMP)
	$(BIN)/c2c run

# The suite in parallel worker processes (pytest-xdist), each test file on one worker, in collection
# order (tests/conftest.py puts the longest test first; xdist would otherwise start with the files that
# hold the most tests and leave the one-test cluster file for last); `pytest` alone runs it in one process.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

lint: $(STAMP)
	$(BIN)/ruff check lakehouse quality jobs tests benchmarks deploy
	$(BIN)/ruff format --check lakehouse quality jobs tests benchmarks deploy

bench: $(STAMP)
	$(BIN)/python benchmarks/storage.py
	$(BIN)/python benchmarks/generate.py

# Java 17 is what Spark needs, and Chromium with its driver runs the dashboard's browser test
# (tests/site, at the paths it uses); install them from Debian when the machine lacks them.
system-deps:
	@command -v java >/dev/null 2>&1 || { \
	  echo "Java not found: installing openjdk-17-jre-headless"; \
	  apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless; }
	@{ test -x /usr/bin/chromium && test -x /usr/bin/chromedriver; } || { \
	  echo "Chromium not found: installing chromium and chromium-driver"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

$(STAMP): pyproject.toml constraints.txt | system-deps
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Pin the whole environment to what the venv holds now (after a change to pyproject.toml:
# `pip install -e '.[dev]'` into the venv first, then `make lock`).
lock: $(STAMP)
	{ echo "# Every package of the environment, pinned: make installs with -c constraints.txt. Refresh with"; \
	  echo "# \`make lock\` after changing pyproject.toml (it writes the versions the venv holds)."; \
	  $(BIN)/pip freeze --exclude-editable | grep -v -i '^c2c-platform'; } > constraints.txt

clean:
	rm -rf var spark-warehouse .pytest_cache
