# make install | demo | test | test-aws | test-cluster | lint | wheel — each installs what it needs first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_LAKE := lake

.PHONY: install demo test test-aws test-cluster lint wheel samples bench clean

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
	# The user-data pipeline, offline: the recorded API responses in samples/randomuser stand for the API.
	$(BIN)/lake workflow run users --lake-root $(DEMO_LAKE) --arg url=file://$(CURDIR)/samples/randomuser --arg requests=2
	$(BIN)/lake query --lake-root $(DEMO_LAKE) -e "SELECT u.user_uuid, u.first_name, u.last_name, u.nationality, u.born_at, l.city, l.postcode, l.latitude, l.longitude, u.p_date FROM curated.users u JOIN curated.user_locations l USING (user_uuid, p_date) ORDER BY u.user_uuid"

test: install
	$(BIN)/ruff check .
	$(BIN)/pytest

# The wheel in a fresh venv with --env aws on a local S3 and Glue API (moto server); S3 request counts.
test-aws: install
	$(BIN)/lake jars --s3
	$(BIN)/pytest -n 0 -m aws tests/aws

# Both workflows on a Spark standalone cluster (master + 2 workers of 1 core, 1 GiB) with the lake on S3.
test-cluster: install
	$(BIN)/lake jars --s3
	$(BIN)/pytest -n 0 -m cluster tests/cluster

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
