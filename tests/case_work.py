"""The workbench's case forms as a person fills them in (flat fields, China time as typed), and posting them."""
import itertools
from datetime import date, datetime, timedelta, timezone

from fastapi.testclient import TestClient

from factories import resident_id
from staff_signing import csrf_of

CHINA = timezone(timedelta(hours=8))
_people = itertools.count(1)


def china_minutes_ago(minutes: int) -> str:
    """A datetime-local value: China time, to the minute, without a zone."""
    return (datetime.now(CHINA) - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M")


def declaration_form(**overrides) -> dict[str, str]:
    n = next(_people)
    birth = date(1940, 1, 1) + timedelta(days=n * 41 % 9000)
    values = {
        "deceased_name": f"王逝者{n}", "sex": "1", "ethnicity": "01", "id_type": "resident_id",
        "id_number": resident_id(birth=birth, seq=(n * 7) % 1000), "birth_date": birth.isoformat(),
        "household_region": "110105", "death_at": china_minutes_ago(60 * 26), "death_place_type": "hospital",
        "death_manner": "normal", "cause_category": "disease", "death_certificate_no": f"BJ-{n:08d}",
        "informant_name": "王家属", "informant_relation": "子女", "informant_phone": "13812345678",
    }
    return values | overrides


def post_form(client: TestClient, page: str, action: str, data: dict[str, str], *, follow: bool = False):
    """GET `page` (for its CSRF token), then POST `data` to `action` as its form would."""
    shown = client.get(page)
    assert shown.status_code == 200, shown.text
    return client.post(action, data={"csrf_token": csrf_of(shown.text), **data}, follow_redirects=follow)


def api_headers(site, role: str, institution_id: str | None = None) -> dict[str, str]:
    token = site.state.ctx.issuer.mint(f"{role}-api", [role], institution_id=institution_id)
    return {"Authorization": f"Bearer {token}"}


def case_count(site_client: TestClient, headers: dict[str, str]) -> int:
    answer = site_client.get("/api/v1/cases", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["count"]
