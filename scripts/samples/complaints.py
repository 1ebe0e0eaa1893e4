"""The complaints pipeline's samples: samples/cfpb, recorded CFPB complaint search pages."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

# CFPB complaint search responses as the API sends them (default format, aggregations left out), for
# `lake workflow run complaints --arg url=file://…/samples/cfpb` with the arguments in CFPB_DEMO_ARGS:
# two windows of three days, pages of three hits, so the run asks for exactly these three pages in
# order. Quirks covered: hits.total as {value, relation}, complaint_id as a string, dates as noon
# US Eastern, tags comma-separated or null, N/A, consent and dispute fields missing (as since 2026),
# an empty narrative, a hit without complaint_id and one whose date does not parse (both quarantined).
CFPB_DEMO_ARGS = {"start": "2024-05-01", "end": "2024-05-06", "window_days": "3", "page_size": "3"}


def cfpb_source(complaint_id: str | None, received: str, **fields) -> dict:
    source = {
        "product": "Credit reporting or other personal consumer reports",
        "complaint_what_happened": "",
        "date_sent_to_company": f"{received}T12:00:00-05:00",
        "issue": "Incorrect information on your report",
        "sub_product": "Credit reporting",
        "zip_code": "30301",
        "tags": None,
        "has_narrative": False,
        "complaint_id": complaint_id,
        "timely": "Yes",
        "company_response": "Closed with explanation",
        "submitted_via": "Web",
        "company": "EQUIFAX, INC.",
        "date_received": f"{received}T12:00:00-05:00",
        "state": "GA",
        "company_public_response": None,
        "sub_issue": "Information belongs to someone else",
    }
    source.update(fields)
    if complaint_id is None:
        del source["complaint_id"]
    return source


def cfpb_hit(source: dict, sort_ms: int) -> dict:
    doc_id = source.get("complaint_id", "unknown")
    return {"_index": "complaint-public-v2", "_type": "_doc", "_id": doc_id, "_score": None, "_source": source,
            "sort": [sort_ms, doc_id]}  # fmt: skip


def cfpb_page(total: int, hits: list[dict]) -> dict:
    return {
        "took": 41,
        "timed_out": False,
        "_shards": {"total": 5, "successful": 5, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": total, "relation": "eq"}, "max_score": None, "hits": hits},
        "_meta": {
            "license": "CC0",
            "last_updated": "2024-05-20T12:00:00-05:00",
            "last_indexed": "2024-05-21T12:00:00-05:00",
            "total_record_count": 4912004,
            "is_data_stale": False,
            "has_data_issue": False,
            "break_points": {},
        },
    }


NOON_EASTERN_MS = {f"2024-05-0{d}": 1714496400000 + 86_400_000 * d for d in range(1, 7)}  # 17:00 UTC of each day
CFPB_PAGES = [
    cfpb_page(
        4,
        [
            cfpb_hit(
                cfpb_source(
                    "8912001",
                    "2024-05-01",
                    tags="Older American, Servicemember",
                    consumer_consent_provided="Consent provided",
                    consumer_disputed="N/A",
                    has_narrative=True,
                    complaint_what_happened="A debt I paid in 2019 still shows as open on my report. "
                    "I disputed it twice in XX/XX/2024 and received no answer.",
                ),
                NOON_EASTERN_MS["2024-05-01"],
            ),
            cfpb_hit(
                cfpb_source("8912077", "2024-05-01", company_response="In progress", timely="No", state="N/A"),
                NOON_EASTERN_MS["2024-05-01"],
            ),
            cfpb_hit(
                cfpb_source(
                    "8915310",
                    "2024-05-02",
                    product="Debt collection",
                    sub_product="Medical debt",
                    issue="Written notification about debt",
                    sub_issue="Didn't receive enough information to verify debt",
                    company="HCFS Health Care Financial Services, Inc.",
                    state="FL",
                    zip_code="34142",
                    tags="Servicemember",
                    consumer_consent_provided="Other",
                    consumer_disputed="No",
                    date_sent_to_company="2024-05-03T12:00:00-05:00",
                    company_public_response="Company has responded to the consumer and the CFPB and chooses not "
                    "to provide a public response",
                ),
                NOON_EASTERN_MS["2024-05-02"],
            ),
        ],
    ),
    cfpb_page(
        4,
        [
            cfpb_hit(
                cfpb_source("8920444", "2024-05-03", submitted_via="Phone", sub_product=None, sub_issue=None),
                NOON_EASTERN_MS["2024-05-03"],
            )
        ],
    ),
    cfpb_page(
        3,
        [
            cfpb_hit(cfpb_source(None, "2024-05-04", zip_code="10001", state="NY"), NOON_EASTERN_MS["2024-05-04"]),
            cfpb_hit(
                cfpb_source("8931902", "2024-05-05", date_sent_to_company="2024-05-32T12:00:00-05:00"),
                NOON_EASTERN_MS["2024-05-05"],
            ),
            cfpb_hit(
                cfpb_source(
                    "8933815",
                    "2024-05-06",
                    company="TRANSUNION INTERMEDIATE HOLDINGS, INC.",
                    state="IL",
                    zip_code="606XX",
                    consumer_disputed="Yes",
                ),
                NOON_EASTERN_MS["2024-05-06"],
            ),  # fmt: skip
        ],
    ),
]


def write_cfpb_samples(folder: Path) -> None:
    """samples/cfpb/page-N.json: recorded complaint search responses, one per request (see CFPB_DEMO_ARGS)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for number, page in enumerate(CFPB_PAGES, 1):
        (folder / f"page-{number}.json").write_text(json.dumps(page, indent=2, ensure_ascii=False) + "\n")
    print(f"cfpb samples written under {folder}", file=sys.stderr)


def write(samples: Path) -> None:
    write_cfpb_samples(samples / "cfpb")
