"""The retail pipeline: UCI Online Retail rows posted as events -> raw.retail_events -> invoice lines, invoices and
customers (Delta, MERGE) -> the DynamoDB tables Customers and Invoices, read back by GET /v1/customers/{id}.

One package: jobs.py (the curated and DynamoDB jobs, and the tables they name), csv_file.py (the CSV file read
into events by `lake stream produce retail --csv FILE`), api.py (the read API on `lake serve`); PIPELINE here.
"""

from __future__ import annotations

from lakekit.core.registry import Job, Pipeline, Step
from lakekit.jobs.event_streams import RAW_EVENTS_JOB, batches_state
from lakekit.pipelines.retail.api import customer_router
from lakekit.pipelines.retail.csv_file import read_retail_csv
from lakekit.pipelines.retail.jobs import (
    CURATED_JOB,
    CUSTOMERS_SERVING,
    CUSTOMERS_TABLE,
    INVOICES_SERVING,
    INVOICES_TABLE,
    LINES_TABLE,
    LOAD_JOB,
    RAW_TABLE,
    STREAM,
    has_new_batches,
    has_new_versions,
    run_curated_retail,
    run_load_retail_dynamodb,
)

PIPELINE = Pipeline(
    name="retail",
    jobs=(
        Job(
            CURATED_JOB,
            run_curated_retail,
            {},
            f"{RAW_TABLE} -> {LINES_TABLE}, {CUSTOMERS_TABLE}, {INVOICES_TABLE}",
            has_work=has_new_batches,
            reads=(RAW_TABLE, batches_state(STREAM)),
            writes=(LINES_TABLE, CUSTOMERS_TABLE, INVOICES_TABLE),
        ),
        Job(
            LOAD_JOB,
            run_load_retail_dynamodb,
            {},
            f"{CUSTOMERS_TABLE}, {INVOICES_TABLE} change feeds -> DynamoDB {CUSTOMERS_SERVING}, {INVOICES_SERVING}",
            has_work=has_new_versions,
            reads=(CUSTOMERS_TABLE, INVOICES_TABLE),
        ),
    ),
    workflows={"retail": (Step(RAW_EVENTS_JOB, {"stream": STREAM}), Step(CURATED_JOB), Step(LOAD_JOB))},
    file_producers={STREAM: read_retail_csv},  # lake stream produce retail --csv FILE
    routes=(customer_router,),  # GET /v1/customers/{customer_id} on lake serve
)
