# Every target bootstraps .venv/ from the pinned requirements first, once.
# Re-installs only when requirements.txt, requirements.lock or pyproject.toml change.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# nbgrader runs `alembic` from PATH when it creates a gradebook.
export PATH := $(abspath $(BIN)):$(PATH)
STAMP := $(VENV)/.installed
# Every target covers the whole course; ASSIGNMENT=<name> narrows release and grade to one.
ASSIGNMENT ?=
GRADED = $(or $(ASSIGNMENT),$(basename $(notdir $(wildcard examples/expected/*.json))))
WORKERS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: test grade release lab student instructor bench clean env

env: $(STAMP)

# The lock is the whole set (tests/test_environment.py: it pins what requirements.txt pins), so pip
# installs it as it is, without resolving (about 10 s less), and `pip check` proves nothing is missing.
# Without resolving, no package depends on another's install: two pips share the lock's lines, one
# line in two each, and install disjoint sets side by side (74 -> 42 s on 2 cores; the same files).
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps
$(STAMP): requirements.txt requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	grep -Ev '^[[:space:]]*(#|$$)' requirements.lock | awk 'NR % 2 == 1' > $(VENV)/lock-half-1.txt
	grep -Ev '^[[:space:]]*(#|$$)' requirements.lock | awk 'NR % 2 == 0' > $(VENV)/lock-half-2.txt
	$(PIP_INSTALL) -r $(VENV)/lock-half-1.txt & first=$$!; \
		$(PIP_INSTALL) -r $(VENV)/lock-half-2.txt; second=$$?; \
		wait $$first && test $$second -eq 0
	$(PIP_INSTALL) -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

# Every test, on two pytest-xdist workers: a test file runs on one worker, in order, and the longest
# start first (tests/conftest.py). tests/test_release.py regenerates each assignment's solutions from
# source/, executes them (hidden tests included) and compares every output with the committed
# solutions'; the released stubs are run and must fail every test, and fail nowhere else. In the
# same run, nbval re-runs the committed solutions/ as a student's Jupyter would and checks they
# reproduce their outputs (seeded), the course's promise to instructors (no run of source/:
# test_release did it); each notebook is a unit of its own, so they fill the workers' last minutes.
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg tests solutions
	@$(BIN)/python -c "from autograder.grading import confine; print('grading kernel tested:', \
		'confined (bubblewrap)' if confine.available() else \
		'UNCONFINED only: bubblewrap is missing here, so the confined-kernel tests skipped')"

# The bundled examples are our own, so they may be graded where bubblewrap cannot confine the
# kernel (--allow-unconfined; where bubblewrap works it is used anyway). Never pass that
# option for real students' submissions: docs/threat-model.md. Each assignment with examples is
# graded into grades/<assignment>/; then grades/course.csv sums them up per student.
grade: $(STAMP)
	@set -e; for assignment in $(GRADED); do \
		echo "== $$assignment"; \
		$(BIN)/python -m autograder grade $$assignment --submissions examples/submissions --out grades/$$assignment \
			--workers $(WORKERS) --allow-unconfined; \
	done
	$(BIN)/python -m autograder course grades

release: $(STAMP)
	$(BIN)/python -m autograder release $(ASSIGNMENT)

# JupyterLab. `make lab` (= `make student`) serves workspace/, the student's own copy of each
# released assignment (created on first use, never overwritten: a changed release is put beside
# it); `make instructor` serves the course root, with the formgrader. Both print the URL to open
# (it holds the login token). LAB_ARGS passes more options, e.g. LAB_ARGS=--no-browser.
PORT ?= 8888
IP ?= 127.0.0.1
LAB_ARGS ?=

lab: student

student: $(STAMP)
	$(BIN)/python -m autograder.lab student --port $(PORT) --ip $(IP) $(LAB_ARGS)

instructor: $(STAMP)
	$(BIN)/python -m autograder.lab instructor --port $(PORT) --ip $(IP) $(LAB_ARGS)

bench: $(STAMP)
	$(BIN)/python -m autograder.bench

clean:
	rm -rf $(VENV) submitted autograded feedback grades gradebook.db build *.egg-info
	find . -name __pycache__ -prune -exec rm -rf {} +
