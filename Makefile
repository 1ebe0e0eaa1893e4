# make install | demo | test | lint | wheel — each installs what it needs first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_LAKE := lake

.PHONY: install demo test lint wheel samples bench bench-ingest clean

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
	# Event ingestion: the service on a free port, 300 orders posted to it, stopped (SIGTERM publishes its files),
	# then the orders workflow (streaming raw_events, curated_orders) and one of the seed's questions.
	PORT=$$($(BIN)/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'); \
	LAKE_API_KEYS=demo-key $(BIN)/lake serve --lake-root $(DEMO_LAKE) --port $$PORT & SERVE=$$!; \
	for i in $$(seq 100); do curl -sf http://127.0.0.1:$$PORT/health >/dev/null && break; sleep 0.2; done; \
	$(BIN)/lake produce orders --url http://127.0.0.1:$$PORT --api-key demo-key --count 300 --batch 50 --seed 7; \
	STATUS=$$?; kill -TERM $$SERVE; wait $$SERVE; exit $$STATUS
	$(BIN)/lake workflow run orders --lake-root $(DEMO_LAKE)
	$(BIN)/lake query --lake-root $(DEMO_LAKE) queries/orders/sales_per_country.sql

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

# lake serve under concurrent clients (batches of 100): events/s, p50/p99, every acknowledged event in raw.
EVENTS ?= 100000
CLIENTS ?= 8
bench-ingest: install
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.ingest --events $(EVENTS) --clients $(CLIENTS)

samples: install
	$(BIN)/python scripts/make_samples.py

clean:
	rm -rf $(VENV) $(DEMO_LAKE) dist build *.egg-info
