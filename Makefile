# make install | demo | test | lint | wheel — each installs what it needs first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_LAKE := lake

.PHONY: install demo test lint wheel samples bench clean

install: $(STAMP)

$(STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/lake jars
	touch $(STAMP)

demo: install
	rm -rf $(DEMO_LAKE)
	mkdir -p $(DEMO_LAKE)
	cp -R samples/landing $(DEMO_LAKE)/landing
	$(BIN)/lake workflow run campaign --lake-root $(DEMO_LAKE)
	$(BIN)/lake query --lake-root $(DEMO_LAKE) --limit 10 -e "SELECT user_id, campaign_id, task_id, task_progress_state, validated_at, task_deadline, created_date FROM curated.campaign_task_progress ORDER BY user_id, campaign_id, task_id"
	$(BIN)/lake query --lake-root $(DEMO_LAKE) queries/task_completion_by_campaign.sql

test: install
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

wheel: install
	$(BIN)/python -m build --wheel --outdir dist .

SCALE ?= 1.0
bench: install
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.run --scale $(SCALE)

samples: install
	$(BIN)/python scripts/make_samples.py

clean:
	rm -rf $(VENV) $(DEMO_LAKE) dist build *.egg-info
