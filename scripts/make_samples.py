"""Write samples/: small DynamoDB exports of user_Campaign and campaignInfo in AWS's exact layout.

They cover what the pipeline must handle and the states users look for (completed, failed, pending
and in-progress tasks): missing and empty lists, an unknown task and campaign,
timestamps with offsets, a task listed twice, an empty failure reason, a malformed line, an item
without its sort key, an incremental export with an insert, an update and a delete, a campaign
whose deadline moved, and an export still being written. Run: python scripts/make_samples.py
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import shutil
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from scripts.export_writer import Change, write_full_export, write_incremental_export

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
T2 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def task(task_id: str, state: str, validated_at: str, reward: str, reason: str = "") -> dict:
    return {
        "taskID": task_id,
        "userCampaignTaskProgressState": state,
        "validatedAt": validated_at,
        "validationFailureReason": reason,
        "rewardEarned": Decimal(reward),
    }


def campaign(campaign_id: str, title: str, tasks: list[tuple[str, str, str]] | None) -> dict:
    item = {
        "campaignID": campaign_id,
        "title": title,
        "rewardClaimDeadline": "2026-12-31T23:59:59Z",
        "endsAtTimestamp": "2026-12-15T00:00:00+01:00",
        "createdAt": "2026-10-01T09:00:00Z",
        "updatedAt": "2026-11-01T09:00:00Z",
    }
    if tasks is not None:
        item["campaignTasks"] = [{"taskID": t, "rewardAmount": Decimal(r), "taskDeadline": d} for t, r, d in tasks]
    return item


CAMPAIGNS = [
    campaign(
        "CAMP#spring",
        "Spring quest",
        [
            ("TASK#signup", "10", "2026-11-25T12:00:00+02:00"),
            ("TASK#share", "5.5", "2026-11-26T00:00:00Z"),
            ("TASK#review", "20", "2026-11-30T18:30:00-05:00"),
        ],
    ),
    campaign(
        "CAMP#winter",
        "Winter streak",
        [
            ("TASK#streak3", "15", "2026-12-05T00:00:00Z"),
            ("TASK#streak7", "40.25", "2026-12-10T00:00:00+05:30"),
        ],
    ),
    campaign("CAMP#draft", "Draft without tasks", None),
]

USERS = [
    {
        "userID": "USER#alice",
        "campaignID": "CAMP#spring",
        "userCampaignProgressState": "IN_PROGRESS",
        "createdAt": "2026-11-18T23:30:00-02:00",
        "updatedAt": "2026-11-19T10:00:00Z",
        "totalTaskRewardsEarned": Decimal("15.5"),
        "progressDetails": [
            task("TASK#signup", "COMPLETED", "2026-11-19T08:00:00+01:00", "10"),
            task("TASK#share", "FAILED", "2026-11-19T09:00:00Z", "0", "link expired"),
            task("TASK#share", "COMPLETED", "2026-11-19T09:30:00Z", "5.5"),  # listed twice: the later one wins
        ],
    },
    {
        "userID": "USER#bob",
        "campaignID": "CAMP#spring",
        "userCampaignProgressState": "JOINED",
        "createdAt": "2026-11-19T05:00:00Z",
        "updatedAt": "2026-11-19T05:00:00Z",
        "totalTaskRewardsEarned": Decimal("0"),
        "progressDetails": [],
    },  # empty list: no rows
    {
        "userID": "USER#carol",
        "campaignID": "CAMP#winter",
        "userCampaignProgressState": "JOINED",
        "createdAt": "2026-11-19T12:00:00+09:00",
        "updatedAt": "2026-11-19T12:00:00+09:00",
        "totalTaskRewardsEarned": Decimal("0"),
    },  # no progressDetails attribute: no rows
    {
        "userID": "USER#dave",
        "campaignID": "CAMP#winter",
        "userCampaignProgressState": "IN_PROGRESS",
        "createdAt": "2026-11-17T10:00:00Z",
        "updatedAt": "2026-11-19T20:00:00Z",
        "totalTaskRewardsEarned": Decimal("15"),
        "progressDetails": [
            task("TASK#streak3", "COMPLETED", "2026-11-19T20:00:00Z", "15"),
            task("TASK#bonus", "COMPLETED", "2026-11-19T21:00:00Z", "3"),  # not a task of the campaign
        ],
    },
    {
        "userID": "USER#erin",
        "campaignID": "CAMP#ghost",
        "userCampaignProgressState": "IN_PROGRESS",
        "createdAt": "2026-11-16T08:00:00Z",
        "updatedAt": "2026-11-16T08:00:00Z",
        "totalTaskRewardsEarned": Decimal("1"),
        "progressDetails": [task("TASK#signup", "PENDING", "2026-11-16T08:05:00Z", "1")],
    },  # unknown campaign
    {
        "userID": "USER#kim",
        "campaignID": "CAMP#winter",
        "userCampaignProgressState": "IN_PROGRESS",
        "createdAt": "2026-11-18T08:00:00Z",
        "updatedAt": "2026-11-19T12:00:00Z",
        "totalTaskRewardsEarned": Decimal("0"),
        "progressDetails": [
            task("TASK#streak3", "FAILED", "2026-11-18T12:00:00Z", "0", "streak broken"),
            task("TASK#streak7", "IN_PROGRESS", "2026-11-19T12:00:00Z", "0"),
        ],
    },  # a failed task and one in progress
    {
        "userID": "USER#lena",
        "campaignID": "CAMP#spring",
        "userCampaignProgressState": "IN_PROGRESS",
        "createdAt": "2026-11-19T14:00:00Z",
        "updatedAt": "2026-11-19T15:00:00Z",
        "totalTaskRewardsEarned": Decimal("0"),
        "progressDetails": [task("TASK#signup", "PENDING", "2026-11-19T15:00:00Z", "0")],
    },  # a task waiting for validation
]

BAD_LINES = [
    '{"Item":{"userID":{"S":"USER#frank"},"campaignID":{"S":"CAMP#spring"},"createdAt":{"S":"2026-11-19',
    '{"Item":{"userID":{"S":"USER#gina"},"userCampaignProgressState":{"S":"JOINED"}}}',
]


def main(samples: Path = SAMPLES) -> None:
    landing = samples / "landing"
    shutil.rmtree(landing, ignore_errors=True)
    write_full_export(landing, "campaignInfo", T0, CAMPAIGNS)
    write_full_export(landing, "user_Campaign", T0, USERS, extra_lines=BAD_LINES, files=2)

    moved = campaign(
        "CAMP#spring",
        "Spring quest",
        [
            ("TASK#signup", "10", "2026-11-27T12:00:00+02:00"),  # deadline moved by two days
            ("TASK#share", "5.5", "2026-11-26T00:00:00Z"),
            ("TASK#review", "20", "2026-11-30T18:30:00-05:00"),
        ],
    )
    write_incremental_export(
        landing,
        "campaignInfo",
        T0,
        T1,
        [
            Change({"campaignID": "CAMP#spring"}, moved, CAMPAIGNS[0], T0.replace(minute=30)),
        ],
    )
    bob_started = {
        **USERS[1],
        "userCampaignProgressState": "IN_PROGRESS",
        "updatedAt": "2026-11-20T06:40:00Z",
        "progressDetails": [task("TASK#signup", "COMPLETED", "2026-11-20T06:40:00Z", "10")],
    }
    heidi = {
        "userID": "USER#heidi",
        "campaignID": "CAMP#winter",
        "userCampaignProgressState": "IN_PROGRESS",
        "createdAt": "2026-11-20T06:10:00+00:00",
        "updatedAt": "2026-11-20T06:50:00Z",
        "totalTaskRewardsEarned": Decimal("15"),
        "progressDetails": [task("TASK#streak3", "COMPLETED", "2026-11-20T06:50:00Z", "15")],
    }
    write_incremental_export(
        landing,
        "user_Campaign",
        T0,
        T1,
        [
            Change({"userID": "USER#bob", "campaignID": "CAMP#spring"}, bob_started, USERS[1], T0.replace(minute=40)),
            Change({"userID": "USER#heidi", "campaignID": "CAMP#winter"}, heidi, None, T0.replace(minute=50)),
            Change({"userID": "USER#erin", "campaignID": "CAMP#ghost"}, None, USERS[4], T0.replace(minute=55)),
        ],
    )
    # The next window is still being written: no manifest-summary.json yet, so runs skip it.
    write_incremental_export(
        landing,
        "user_Campaign",
        T1,
        T2,
        [
            Change({"userID": "USER#ivan", "campaignID": "CAMP#spring"}, {**heidi, "userID": "USER#ivan"}, None, T1),
        ],
        complete=False,
    )
    print(f"samples written under {landing}", file=sys.stderr)
    write_randomuser_samples(samples / "randomuser")
    write_cfpb_samples(samples / "cfpb")
    write_retail_samples(samples / "retail")


# randomuser.me responses as the API sends them (credential fields included: the ingestion removes
# them), for `lake run ingest_users --arg url=file://…/samples/randomuser --arg requests=2`: each request
# reads the next page. Quirks covered: postcode as a string (CA) or an int (US, NZ), coordinates as
# strings, a null national id (NZ), and a user fetched again on page 2 after moving (the later fetch wins).
def randomuser(
    *,
    uuid: str,
    gender: str,
    name: tuple[str, str, str],
    street: tuple[int, str],
    place: tuple[str, str, str, str | int],
    coordinates: tuple[str, str],
    timezone: tuple[str, str],
    born: tuple[str, int],
    registered: tuple[str, int],
    phones: tuple[str, str],
    national_id: tuple[str, str | None],
    nat: str,
    password: str,
) -> dict:
    title, first, last = name
    city, state, country, postcode = place
    salt = hashlib.sha1(uuid.encode()).hexdigest()[:8]
    salted = (password + salt).encode()
    username = f"{first.lower()}{last.lower()}{sum(map(ord, uuid)) % 1000}"
    portrait = f"{'men' if gender == 'male' else 'women'}/{sum(map(ord, uuid)) % 100}.jpg"
    return {
        "gender": gender,
        "name": {"title": title, "first": first, "last": last},
        "location": {
            "street": {"number": street[0], "name": street[1]},
            "city": city,
            "state": state,
            "country": country,
            "postcode": postcode,
            "coordinates": {"latitude": coordinates[0], "longitude": coordinates[1]},
            "timezone": {"offset": timezone[0], "description": timezone[1]},
        },
        "email": f"{first.lower()}.{last.lower()}@example.com",
        "login": {
            "uuid": uuid,
            "username": username,
            "password": password,
            "salt": salt,
            "md5": hashlib.md5(salted).hexdigest(),
            "sha1": hashlib.sha1(salted).hexdigest(),
            "sha256": hashlib.sha256(salted).hexdigest(),
        },
        "dob": {"date": born[0], "age": born[1]},
        "registered": {"date": registered[0], "age": registered[1]},
        "phone": phones[0],
        "cell": phones[1],
        "id": {"name": national_id[0], "value": national_id[1]},
        "picture": {
            "large": f"https://randomuser.me/api/portraits/{portrait}",
            "medium": f"https://randomuser.me/api/portraits/med/{portrait}",
            "thumbnail": f"https://randomuser.me/api/portraits/thumb/{portrait}",
        },
        "nat": nat,
    }


RANDOMUSER_ANNA = randomuser(
    uuid="5f0c6d1e-8a3b-4c2d-9e7f-1a2b3c4d5e6f",
    gender="female",
    name=("Ms", "Anna", "Tremblay"),
    street=(4127, "Dufferin St"),
    place=("Dorval", "Québec", "Canada", "H9P 1K4"),
    coordinates=("45.4467", "-73.7502"),
    timezone=("-5:00", "Eastern Time (US & Canada), Bogota, Lima"),
    born=("1988-04-12T09:15:33.120Z", 38),
    registered=("2014-06-30T17:02:11.004Z", 12),
    phones=("G15 T41-0983", "B22 Q77-6601"),
    national_id=("SIN", "046454286"),
    nat="CA",
    password="maple88",
)
RANDOMUSER_LEON = randomuser(
    uuid="9b8e7f6a-5d4c-4b3a-8f2e-0d1c2b3a4f5e",
    gender="male",
    name=("Mr", "Leon", "Walker"),
    street=(912, "Cedar Ln"),
    place=("Tulsa", "Oklahoma", "United States", 74103),
    coordinates=("36.1540", "-95.9928"),
    timezone=("-6:00", "Central Time (US & Canada), Mexico City"),
    born=("1975-11-02T22:40:05.871Z", 51),
    registered=("2009-02-14T08:30:00.000Z", 17),
    phones=("(918) 555-0142", "(918) 555-0199"),
    national_id=("SSN", "403-12-8876"),
    nat="US",
    password="hunter2",
)
RANDOMUSER_MERE = randomuser(
    uuid="c3d2e1f0-a9b8-4c7d-8e6f-5a4b3c2d1e0f",
    gender="female",
    name=("Miss", "Mere", "Ngata"),
    street=(58, "Oriental Parade"),
    place=("Wellington", "Wellington", "New Zealand", 6011),
    coordinates=("-41.2924", "174.7787"),
    timezone=("+12:00", "Auckland, Wellington, Fiji, Kamchatka"),
    born=("2001-07-23T03:05:44.309Z", 25),
    registered=("2019-10-01T11:11:11.111Z", 7),
    phones=("(027)-314-5597", "(021)-660-7812"),
    national_id=("", None),
    nat="NZ",
    password="kiwi2001",
)
RANDOMUSER_LEON_MOVED = {
    **RANDOMUSER_LEON,
    "location": {
        **RANDOMUSER_LEON["location"],
        "street": {"number": 77, "name": "Elm St"},
        "city": "Boulder",
        "state": "Colorado",
        "postcode": 80302,
        "coordinates": {"latitude": "40.0150", "longitude": "-105.2705"},
        "timezone": {"offset": "-7:00", "description": "Mountain Time (US & Canada)"},
    },
}
RANDOMUSER_PAGES = [
    {
        "results": [RANDOMUSER_ANNA, RANDOMUSER_LEON, RANDOMUSER_MERE],
        "info": {"seed": "campaignlake", "results": 3, "page": 1, "version": "1.4"},
    },
    {"results": [RANDOMUSER_LEON_MOVED], "info": {"seed": "campaignlake", "results": 1, "page": 2, "version": "1.4"}},
]


def write_randomuser_samples(folder: Path) -> None:
    """samples/randomuser/page-N.json: recorded randomuser.me responses, one per request."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for number, page in enumerate(RANDOMUSER_PAGES, 1):
        (folder / f"page-{number}.json").write_text(json.dumps(page, indent=2, ensure_ascii=False) + "\n")
    print(f"randomuser samples written under {folder}", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLES)


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


# UCI Online Retail, first edition (columns InvoiceNo … Country, dates 2010-12-01 08:26:00, CustomerID as
# 17850.0), as the retail pipeline's producer reads it. Generated from a fixed seed, a few hundred rows with
# every quirk of the data set: cancellations (C…, negative quantities, a D discount among them), bad-debt
# adjustments (A…, stock code B, one with a negative price), blank customers (about a quarter of invoices),
# exact duplicate rows, non-product stock codes (POST, DOT, M, C2, BANK CHARGES, AMAZONFEE, CRUK, PADS, S,
# gift_…), zero prices, stock write-offs (negative quantity, no C, no customer), an unknown country
# ("Unspecified") and a price of 0.001 (PADS: cannot be stored as decimal(10,2), so quarantined).
RETAIL_HEADER = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]
RETAIL_FILE = "online_retail.csv"
_RETAIL_PRODUCTS = [
    ("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "2.55"),
    ("71053", "WHITE METAL LANTERN", "3.39"),
    ("84406B", "CREAM CUPID HEARTS COAT HANGER", "2.75"),
    ("22752", "SET 7 BABUSHKA NESTING BOXES", "7.65"),
    ("21730", "GLASS STAR FROSTED T-LIGHT HOLDER", "4.25"),
    ("22633", "HAND WARMER UNION JACK", "1.85"),
    ("22745", "POPPY'S PLAYHOUSE BEDROOM ", "2.1"),
    ("22728", "ALARM CLOCK BAKELIKE PINK", "3.75"),
    ("82567", "AIRLINE LOUNGE,METAL SIGN", "2.1"),
    ("35004C", "SET OF 3 COLOURED  FLYING DUCKS", "4.65"),
    ("21754", "HOME BUILDING BLOCK WORD", "5.95"),
    ("22960", "JAM MAKING SET WITH JARS", "4.25"),
    ("84879", "ASSORTED COLOUR BIRD ORNAMENT", "1.69"),
    ("22086", "PAPER CHAIN KIT 50'S CHRISTMAS ", "2.95"),
    ("47566", "PARTY BUNTING", "4.95"),
    ("20725", "LUNCH BAG RED RETROSPOT", "1.65"),
    ("85099B", "JUMBO BAG RED RETROSPOT", "1.95"),
    ("23084", "RABBIT NIGHT LIGHT", "2.08"),
]
_RETAIL_CUSTOMERS = [
    ("17850", "United Kingdom"),
    ("13047", "United Kingdom"),
    ("12583", "France"),
    ("15311", "United Kingdom"),
    ("14527", "United Kingdom"),
    ("12791", "Netherlands"),
    ("16098", "United Kingdom"),
    ("12431", "Australia"),
    ("12662", "Germany"),
    ("14688", "United Kingdom"),
    ("12347", "Iceland"),
    ("12370", "Cyprus"),
]


def retail_rows(seed: int = 2010, invoices: int = 48) -> list[dict]:
    """The sample's rows in file order: InvoiceNo, StockCode, Description, Quantity (int), InvoiceDate
    (datetime), UnitPrice (text as written), CustomerID (digits, or None for a guest), Country."""
    rng = random.Random(seed)
    rows: list[dict] = []
    at = datetime(2010, 12, 1, 8, 26)
    number = 536365
    sold: list[list[dict]] = []  # invoices with a customer, for the cancellations

    def row(invoice, code, description, quantity, price, customer, country, when):
        return {"InvoiceNo": invoice, "StockCode": code, "Description": description, "Quantity": quantity,
                "InvoiceDate": when, "UnitPrice": price, "CustomerID": customer, "Country": country}  # fmt: skip

    for index in range(invoices):
        at += timedelta(minutes=rng.randint(3, 400))
        invoice = str(number + index)
        guest = rng.random() < 0.25
        customer, country = (None, "United Kingdom") if guest else rng.choice(_RETAIL_CUSTOMERS)
        if index == 20:
            country = "Unspecified"  # not a country: flagged unknown
        lines = [
            row(invoice, code, description, rng.choice([1, 2, 3, 4, 6, 12, 24]), price, customer, country, at)
            for code, description, price in rng.sample(_RETAIL_PRODUCTS, rng.randint(2, 7))
        ]
        if country not in ("United Kingdom", "Unspecified"):
            lines.append(row(invoice, "POST", "POSTAGE", rng.randint(1, 3), "18.0", customer, country, at))
        if index % 9 == 4:
            lines.insert(1, dict(lines[0]))  # an exact duplicate row, as the data set has thousands
        if index % 11 == 7:
            lines.append(row(invoice, "22139", "", 56, "0.0", customer, country, at))  # zero price, no description
        extras = {
            3: ("DOT", "DOTCOM POSTAGE", 1, "569.77"),
            6: ("M", "Manual", 1, "0.85"),
            10: ("C2", "CARRIAGE", 1, "50.0"),
            14: ("BANK CHARGES", "Bank Charges", 1, "15.0"),
            17: ("AMAZONFEE", "AMAZON FEE", 1, "5.0"),
            23: ("CRUK", "CRUK Commission", 1, "1.6"),
            26: ("PADS", "PADS TO MATCH ALL CUSHIONS", 1, "0.001"),
            30: ("S", "SAMPLES", 1, "12.0"),
            34: ("gift_0001_20", "Dotcomgiftshop Gift Voucher £20.00", 1, "17.02"),
        }
        if index in extras:
            code, description, quantity, price = extras[index]
            lines.append(row(invoice, code, description, quantity, price, customer, country, at))
        rows += lines
        if customer is not None:
            sold.append(lines)
        if index % 8 == 5 and sold:  # a cancellation of part of an earlier invoice, with a discount line
            earlier = rng.choice(sold)
            at += timedelta(minutes=rng.randint(1, 30))
            cancelled = f"C{number + index}"
            for line in earlier[: rng.randint(1, 2)]:
                rows.append(row(cancelled, line["StockCode"], line["Description"], -line["Quantity"],
                                line["UnitPrice"], line["CustomerID"], line["Country"], at))  # fmt: skip
            rows.append(
                row(cancelled, "D", "Discount", -1, "27.5", earlier[0]["CustomerID"], earlier[0]["Country"], at)
            )
        if index % 10 == 8:  # a stock write-off: negative quantity, not a cancellation, no customer, no price
            code, _, _ = rng.choice(_RETAIL_PRODUCTS)
            note = rng.choice(["?", "damaged", "check", ""])
            rows.append(
                row(str(number + 1000 + index), code, note, -rng.randint(5, 60), "0.0", None, "United Kingdom", at)
            )
    at += timedelta(hours=2)
    rows.append(row("A563185", "B", "Adjust bad debt", 1, "11062.06", None, "United Kingdom", at))
    rows.append(row("A563186", "B", "Adjust bad debt", 1, "-11062.06", None, "United Kingdom", at))
    return rows


def retail_csv(rows: list[dict]) -> str:
    """The rows as the first edition's CSV: CustomerID as 17850.0, dates 2010-12-01 08:26:00."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RETAIL_HEADER)
    for r in rows:
        customer = "" if r["CustomerID"] is None else f"{r['CustomerID']}.0"
        when = r["InvoiceDate"].strftime("%Y-%m-%d %H:%M:%S")
        writer.writerow([r["InvoiceNo"], r["StockCode"], r["Description"], r["Quantity"], when, r["UnitPrice"],
                         customer, r["Country"]])  # fmt: skip
    return out.getvalue()


def write_retail_samples(folder: Path) -> None:
    """samples/retail/online_retail.csv (first edition)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RETAIL_FILE).write_text(retail_csv(retail_rows()), encoding="utf-8")
    print(f"retail samples written under {folder}", file=sys.stderr)
