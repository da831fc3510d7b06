"""Sample deaths for a demonstration fleet, made as staff make them: through each province's API under `fsp serve`,
with tokens of its development issuer. A funeral home (the first the province has, or one made for the demo),
then each case declared by its registrar, registered by a reviewer, and every other one cremated with its
certificate and the ashes' destination. Shipped to the ministry like any case, they fill its statistics, its
portal's figures, its exports and the KPIs of `fsp fleet status`.

Names, dates and ID numbers are random but valid-shaped (GB 11643 checksum, county codes of the province from
GB/T 2260), from a seed: the same seed makes the same people, which the registry then refuses as duplicates.
"""
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache

import httpx
from stdnum.cn import ric, uscc

from registry.regions import describe

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "秀英桂兰玉珍凤华淑芳建国志强明德文忠永福春海金山立新国庆红梅"
RELATIONS = ("子女", "配偶", "兄弟姐妹", "孙子女")
CAUSES = ("disease", "disease", "disease", "disease", "accident", "other")
PLACES = ("hospital", "hospital", "home", "care_institution", "other")
# where the ashes went, needing no receiving institution: scattering is 节地生态安葬, for the eco-burial share
DESTINATIONS = ("sea_scattering", "river_scattering", "kept_at_home", "returned_to_hometown", "kept_at_home")
_CLOSED = re.compile(r"-\d{4}\]")  # a county name with an end year: abolished since


class DemoError(Exception):
    """The province's API refused a step: the answer says why."""


@dataclass
class Made:
    province: str
    declared: int = 0
    duplicates: int = 0  # the same people as an earlier run with the same seed: refused, not made twice
    cremated: int = 0
    certificates: int = 0
    destinations: int = 0
    institution: str = ""
    problems: list[str] = field(default_factory=list)


@cache
def counties(province_code: str) -> tuple[str, ...]:
    """The province's county codes in use today (GB/T 2260, from python-stdnum's table)."""
    found = []
    for prefecture in range(1, 100):
        for county in range(1, 100):
            code = f"{province_code[:2]}{prefecture:02d}{county:02d}"
            described = describe(code)
            if described and "county" in described and not _CLOSED.search(described["county"]):
                found.append(code)
    return tuple(found)


def resident_id(rng: random.Random, region: str, birth: date, sex: str) -> str:
    """A GB 11643 number: region, birth date, a sequence whose last digit is odd for men, the check digit."""
    sequence = rng.randrange(100) * 10 + rng.choice((1, 3, 5, 7, 9) if sex == "1" else (0, 2, 4, 6, 8))
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def case_body(rng: random.Random, institution_id: str, regions: tuple[str, ...], now: datetime) -> dict:
    sex = rng.choice("12")
    died = now - timedelta(days=3 + rng.random() * 400)
    birth = date(died.year - 55 - rng.randrange(45), 1 + rng.randrange(12), 1 + rng.randrange(28))
    region = rng.choice(regions)
    surname = rng.choice(SURNAMES)
    return {"institution_id": institution_id, "deceased_name": surname + "".join(rng.sample(GIVEN, 2)), "sex": sex,
            "ethnicity": "01", "id_type": "resident_id", "id_number": resident_id(rng, region, birth, sex),
            "birth_date": birth.isoformat(), "household_region": region, "death_at": died.isoformat(),
            "death_place_type": rng.choice(PLACES), "death_manner": "normal", "cause_category": rng.choice(CAUSES),
            # the medical certificate of death (死亡医学证明) a cremation needs
            "death_certificate_no": f"{region[:2]}{died:%Y}-{rng.randrange(10**8):08d}",
            "informant": {"name": surname + rng.choice(GIVEN) + rng.choice(GIVEN), "relation": rng.choice(RELATIONS),
                          "phone": f"13{rng.randrange(10**9):09d}"}}


class Province:
    """One province's API under `fsp serve`, with a token per role from its development issuer."""

    def __init__(self, client: httpx.Client, base: str, mint: Callable[[str, str | None], str]):
        self._client, self._base, self._mint = client, base.rstrip("/"), mint
        self._tokens: dict[tuple[str, str | None], str] = {}

    def call(self, role: str, method: str, path: str, *, body: dict | None = None,
             institution: str | None = None, ok: tuple[int, ...] = (200, 201)) -> httpx.Response:
        key = (role, institution)
        if key not in self._tokens:
            self._tokens[key] = self._mint(role, institution)
        response = self._client.request(method, f"{self._base}{path}", json=body,
                                        headers={"Authorization": f"Bearer {self._tokens[key]}"})
        if response.status_code not in ok:
            raise DemoError(f"{method} {path} answered {response.status_code}: {_problem(response)}")
        return response


def _problem(response: httpx.Response) -> str:
    try:
        first = response.json()["errors"][0]
        return f"{first['field']}: {first['message']}"
    except (ValueError, KeyError, IndexError, TypeError):
        return response.text[:200]


def funeral_home(api: Province, province: str, code: str, rng: random.Random) -> str:
    """The province's first active funeral home, or one made for the demonstration; its id."""
    listed = api.call("provincial-admin", "GET", "/institutions?limit=500").json()["data"]
    homes = [row for row in listed if row["type"] == "funeral_home" and row.get("status", "active") == "active"]
    if homes:
        return homes[0]["id"]
    body = f"12{code}{rng.randrange(10**9):09d}"
    region = counties(code)[0]
    made = api.call("provincial-admin", "POST", "/institutions", body={
        "name": f"{(describe(code) or {}).get('province', province)}示范殡仪馆", "type": "funeral_home",
        "credit_code": body + uscc.calc_check_digit(body), "region_code": region, "address": "示范路1号",
        "contact_name": "值班室", "contact_phone": "010-12345678", "licence_no": f"DEMO-{code}"})
    return made.json()["id"]


def make_cases(api: Province, *, province: str, code: str, cases: int, seed: int,
               now: datetime | None = None, progress: Callable[[int], None] = lambda _: None) -> Made:
    """`cases` deaths in the province: declared, registered, every other one cremated, certified and its ashes'
    destination recorded."""
    now = now or datetime.now(UTC)
    made = Made(province)
    home = made.institution = funeral_home(api, province, code, random.Random(f"{seed}:{province}:home"))
    regions = counties(code)
    for n in range(cases):
        rng = random.Random(f"{seed}:{province}:{n}")  # each person from the seed alone: a re-run draws the same
        body = case_body(rng, home, regions, now)
        declared = api.call("registrar", "POST", "/cases", body=body, institution=home, ok=(201, 409))
        progress(n + 1)
        if declared.status_code == 409:
            made.duplicates += 1
            continue
        case = declared.json()["id"]
        made.declared += 1
        api.call("reviewer", "POST", f"/cases/{case}/register")
        if n % 2:
            continue
        started = datetime.fromisoformat(body["death_at"]) + timedelta(days=2, hours=rng.random() * 6)
        api.call("registrar", "POST", f"/cases/{case}/cremation", institution=home, body={
            "institution_id": home, "started_at": started.isoformat(),
            "ended_at": (started + timedelta(minutes=70)).isoformat(), "furnace_no": f"F-{1 + n % 4:02d}",
            "operator_name": "值班火化师"})
        made.cremated += 1
        api.call("registrar", "POST", f"/cases/{case}/certificates", institution=home)
        made.certificates += 1
        destination = rng.choice(DESTINATIONS)
        api.call("registrar", "POST", f"/cases/{case}/ashes-destination", institution=home,
                 body={"destination": destination})
        made.destinations += 1
    return made


def token_minter(issuer) -> Callable[[str, str | None], str]:
    """Tokens of a development issuer for the demo's staff (a registrar bound to the funeral home)."""
    def mint(role: str, institution: str | None) -> str:
        return issuer.mint(f"demo-{role}", [role], institution_id=uuid.UUID(institution) if institution else None,
                           ttl_seconds=3600)
    return mint
