"""The users pipeline's samples: samples/randomuser, recorded randomuser.me pages."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path


# randomuser.me responses as the API sends them (credential fields included: the ingestion removes
# them), for `lake job run ingest_users --arg url=file://…/samples/randomuser --arg requests=2`: each request
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


def write(samples: Path) -> None:
    write_randomuser_samples(samples / "randomuser")
