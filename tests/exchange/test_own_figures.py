"""A province sees its own figures: its outbox applied to its own copy of the national records by the ministry's
projection (a sweep), answered by the same statistics API for its administrator (statistics:read). Its tables
equal the ministry's for it; a correction moves a death; a round with nothing new changes nothing."""
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlmodel import Session

from factories import case_payload, create_institution
from registry import sweeps
from registry.national import own_figures

CHINA = ZoneInfo("Asia/Shanghai")


def _declared(client, mint, *sexes: str) -> tuple[dict, list[dict], int]:
    """Cases declared in beijing (one per sex given), dead three days ago; the registrar, the cases, the year."""
    home = create_institution(client, mint("provincial-admin"))
    registrar = mint("registrar", institution_id=uuid.UUID(home["id"]))
    death = datetime.now(UTC) - timedelta(days=3)
    cases = []
    for sex in sexes:
        made = client.post("/api/v1/cases", headers=registrar,
                           json={**case_payload(home["id"], death_at=death.isoformat()), "sex": sex})
        assert made.status_code == 201, made.text
        cases.append(made.json())
    return registrar, cases, death.astimezone(CHINA).year


def _catch_up(app) -> int:
    with Session(app.state.ctx.engine) as session:
        return own_figures.catch_up_tenant(session, app.state.ctx)


def _by_sex(client, headers, year: int) -> dict[str, int]:
    answer = client.get("/api/v1/national/statistics/deaths", headers=headers, params={"year": year, "by": "sex"})
    assert answer.status_code == 200, answer.text
    return {row["value"]: row["count"] for row in answer.json()["rows"]}


def test_the_provinces_figures_follow_its_cases_and_corrections(app, client, mint):
    registrar, (first, _, _), year = _declared(client, mint, "1", "1", "2")
    admin = mint("provincial-admin")
    assert _by_sex(client, admin, year) == {}  # nothing applied yet
    assert _catch_up(app) == 4  # the institution and three cases
    assert _by_sex(client, admin, year) == {"1": 2, "2": 1}

    corrected = client.post(f"/api/v1/cases/{first['id']}/corrections", headers=registrar,
                            json={"changes": {"sex": "2"}, "reason": "核对户口簿"})
    assert corrected.status_code == 200, corrected.text
    assert _catch_up(app) == 1
    assert _by_sex(client, admin, year) == {"1": 1, "2": 2}  # moved, not counted twice
    assert _catch_up(app) == 0 and _by_sex(client, admin, year) == {"1": 1, "2": 2}

    shown = client.get("/api/v1/national/indicators", headers=admin, params={"year": year}).json()
    assert [(row["province"], row["deaths"]) for row in shown["provinces"]] == [("beijing", 3)]
    as_of = client.get("/api/v1/national/own-figures", headers=admin).json()
    assert as_of["applied_seq"] == as_of["outbox_head"] == 5 and as_of["updated_at"] is not None


def test_the_sweep_brings_the_figures_up_to_date(app, client, mint):
    _, _, year = _declared(client, mint, "2")
    swept = sweeps.run_sweeps(app.state.ctx)
    assert swept["own_figures"] == 2
    assert _by_sex(client, mint("provincial-admin"), year) == {"2": 1}


def test_only_the_provinces_administrator_reads_its_figures(client, mint):
    for headers in (mint("registrar", institution_id=uuid.uuid4()), mint("reviewer"), mint("auditor"),
                    mint("ministry-operator")):  # national:read is the ministry's, not a province's
        answer = client.get("/api/v1/national/statistics/deaths", headers=headers, params={"year": 2026})
        assert answer.status_code == 403, answer.text
    assert client.get("/api/v1/national/cases", headers=mint("provincial-admin")).status_code == 404  # not here


def test_a_provinces_figures_equal_the_ministrys_for_it(app, client, mint, make_shipper, ministry_url,
                                                       ministry_settings):
    _, _, year = _declared(client, mint, "1", "2", "2")
    make_shipper(ministry_url).ship_pending()
    _catch_up(app)
    from registry.app import create_app

    ministry_app = create_app(ministry_settings)
    try:
        operator = {"Authorization": "Bearer " + ministry_app.state.ctx.issuer.mint("op", ["ministry-operator"])}
    finally:
        ministry_app.state.ctx.engine.dispose()
    admin = mint("provincial-admin")
    for path, params in (("statistics/deaths", {"year": year, "level": "county", "by": "age_band"}),
                         ("statistics/deaths", {"year": year, "by": "place"}), ("indicators", {"year": year})):
        at_ministry = httpx.get(f"{ministry_url}/api/v1/national/{path}", headers=operator,
                                params={**params, **({"province": "beijing"} if "statistics" in path else {})},
                                timeout=10).json()
        at_province = client.get(f"/api/v1/national/{path}", headers=admin, params=params).json()
        assert at_province == at_ministry

    def kpis(answer: dict) -> dict:
        return {row["kpi"]: row for row in answer["rows"]}
    at_ministry = kpis(httpx.get(f"{ministry_url}/api/v1/national/kpis", headers=operator, params={"year": year},
                                 timeout=10).json())
    at_province = kpis(client.get("/api/v1/national/kpis", headers=admin, params={"year": year}).json())
    fresh_here, fresh_there = at_province.pop("exchange_freshness"), at_ministry.pop("exchange_freshness")
    assert at_province == at_ministry and at_province["online_institutions"]["numerator"] == 1
    # the province's freshness: when the ministry acknowledged its last event, the ministry's: when it accepted it
    assert fresh_here["status"] == fresh_there["status"] == "pass" and abs(fresh_here["value"] - fresh_there["value"]) <= 5
    completeness = client.get("/api/v1/national/completeness", headers=admin, params={"year": year}).json()
    assert [(row["province"], row["registered"]) for row in completeness["provinces"]] == [("beijing", 3)]
