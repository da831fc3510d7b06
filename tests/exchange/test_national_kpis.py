"""Registration completeness and the plan's KPIs against hand counts of the events sent: yearbook figures loaded
once (a second load changes nothing), corrections moving a death between years, replays counting nothing."""
import csv
import io
import json
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from assertions import last_audit
from national_events import batch, case, cremation, institution_event, interment
from registry.app import create_app
from registry.config import Role
from registry.exchange import service as exchange
from registry.exchange.models import ExchangeCursor
from registry.national import kpis, yearbook
from registry.national.kpis import Kpi, Status
from registry.national.yearbook import ExpectedFigure

WORKING, IDLE, SUSPENDED = uuid.UUID(int=7), uuid.UUID(int=9), uuid.UUID(int=10)


@pytest.fixture
def ministry(settings):
    app = create_app(settings.model_copy(update={"role": Role.ministry, "tenant_code": "100000",
                                                 "tenant_slug": "ministry"}))
    yield app
    app.state.ctx.engine.dispose()


def _receive(app, *batches) -> None:
    with Session(app.state.ctx.engine) as session:
        for sent in batches:
            exchange.receive_batch(session, sent, journal=app.state.ctx.journal)


def _figure(province: str, code: str, year: int, population: int, rate: str) -> ExpectedFigure:
    expected = int(population * Decimal(rate) / 1000)
    return ExpectedFigure(province_slug=province, province_code=code, year=year, population=population,
                          death_rate_permille=Decimal(rate), expected_deaths=expected, source="测试年鉴 表2-9")


def _load(app, figures: list[ExpectedFigure]) -> list[dict]:
    with Session(app.state.ctx.engine) as session:
        return yearbook.load(session, app.state.ctx.journal, figures, actor="fsp-yearbook")


def _fleet(app) -> dict[str, uuid.UUID]:
    """Beijing: 3 institutions (two active, one suspended); 4 deaths in 2026, all at the working funeral home, one
    cremated there; one 2024 case imported from the archives, one 2024 case declared then archived. Shandong: 1
    death in 2026, no institution, no yearbook figure. Expected deaths: Beijing 2026 = 2,000 × 2.50 ‰ = 5 and
    2024 = 1,000 × 2.00 ‰ = 2."""
    ids = {name: uuid.uuid4() for name in ("a", "b", "c", "d", "imported", "live2024", "s")}
    _receive(app, batch("beijing", 1, [
        ("institution.created", WORKING, institution_event(WORKING)),
        ("institution.created", IDLE, institution_event(IDLE, name="西郊公墓", type="public_cemetery")),
        ("institution.created", SUSPENDED, institution_event(SUSPENDED, status="suspended")),
        *[("case.declared", ids[n], case(ids[n])) for n in ("a", "b", "c", "d")],
        ("cremation.recorded", ids["a"], cremation(ids["a"])),
        ("case.imported", ids["imported"], case(ids["imported"], status="closed", archive_ref="JD-2024-001",
                                                death_at="2024-05-01T08:00:00+08:00",
                                                archived_at="2026-10-01T12:00:00+08:00")),
        ("case.declared", ids["live2024"], case(ids["live2024"], death_at="2024-12-31T23:00:00+08:00",
                                                institution_id=str(IDLE))),
        ("case.archived", ids["live2024"], {"case_id": str(ids["live2024"])}),
    ]), batch("shandong", 1, [("case.declared", ids["s"], case(ids["s"], household_region="370102"))]))
    _load(app, [_figure("beijing", "110000", 2026, 2000, "2.50"), _figure("beijing", "110000", 2024, 1000, "2.00")])
    return ids


def _kpis(app, *, year: int = 2026, later: timedelta = timedelta(0),
          since: str = "shandong") -> dict[tuple[str, Kpi], kpis.KpiRow]:
    """The KPIs `later` after the province `since` last shipped (provinces ship a moment apart on a busy machine)."""
    with Session(app.state.ctx.engine) as session:
        shipped = session.exec(select(ExchangeCursor.updated_at).where(ExchangeCursor.province_slug == since)).first()
        return {(row.province, row.kpi): row for row in kpis.kpis(session, year=year, now=shipped + later)}


def test_completeness_is_registered_over_expected_deaths_and_unknown_without_a_figure(ministry):
    _fleet(ministry)
    with Session(ministry.state.ctx.engine) as s:
        rows, nation = kpis.completeness(s, year=2026)
    by = {row.province: row for row in rows}
    assert (by["beijing"].registered, by["beijing"].expected, by["beijing"].ratio) == (4, 5, 0.8)
    assert (by["shandong"].registered, by["shandong"].expected, by["shandong"].ratio) == (1, None, None)
    # the nation's ratio covers the one province with a figure, never Shandong's death over Beijing's expected
    assert (nation.registered, nation.expected, nation.ratio, nation.provinces_counted) == (4, 5, 0.8, 1)


def test_a_correction_moves_a_death_out_of_the_year_and_a_replay_counts_nothing(ministry):
    ids = _fleet(ministry)
    _receive(ministry, batch("beijing", 12, [("case.corrected", ids["d"], case(ids["d"],
                                                                              death_at="2025-12-31T10:00:00+08:00"))]))
    _receive(ministry, batch("beijing", 1, [("case.declared", ids["a"], case(ids["a"]))]))  # a replay
    with Session(ministry.state.ctx.engine) as s:
        rows, _ = kpis.completeness(s, year=2026)
    assert next(r for r in rows if r.province == "beijing").registered == 3


def test_online_institutions_count_the_active_ones_that_worked_on_the_platform_in_the_year(ministry):
    _fleet(ministry)
    found = _kpis(ministry)
    online = found[("beijing", Kpi.online_institutions)]
    # the working home (deaths and a cremation in 2026) of two active institutions; the suspended one not counted
    assert (online.numerator, online.denominator, online.value, online.target) == (1, 2, 0.5, 0.6)
    assert online.status == Status.behind
    assert found[("shandong", Kpi.online_institutions)].status == Status.unknown  # no institution reported
    # in 2024 the cemetery declared a death; an imported archive record is not business on the platform
    assert _kpis(ministry, year=2024)[("beijing", Kpi.online_institutions)].numerator == 1


def test_a_burial_recorded_puts_the_cemetery_online_and_the_province_passes(ministry):
    ids = _fleet(ministry)
    _receive(ministry, batch("beijing", 12, [("interment.recorded", ids["b"], interment(
        ids["b"], institution_id=str(IDLE)))]))
    online = _kpis(ministry)[("beijing", Kpi.online_institutions)]
    assert (online.numerator, online.value, online.status) == (2, 1.0, Status.passed)


def test_backfill_counts_archived_cases_of_each_year_against_its_expected_deaths(ministry):
    ids = _fleet(ministry)
    backfill = _kpis(ministry)[("beijing", Kpi.backfill)]
    # 2024: the imported case and the archived one of 2 expected; 2010-2023 and 2025 have no yearbook figure
    assert (backfill.numerator, backfill.denominator, backfill.value, backfill.status) == (2, 2, 1.0, Status.passed)
    assert backfill.missing_years == [*range(2010, 2024), 2025]
    _receive(ministry, batch("beijing", 1, [("case.imported", ids["imported"], case(
        ids["imported"], status="closed", archive_ref="JD-2024-001", death_at="2024-05-01T08:00:00+08:00",
        archived_at="2026-10-01T12:00:00+08:00"))]))  # the import replayed
    assert _kpis(ministry)[("beijing", Kpi.backfill)].numerator == 2
    _receive(ministry, batch("beijing", 12, [("case.corrected", ids["imported"], case(
        ids["imported"], status="closed", archive_ref="JD-2024-001", death_at="2023-05-01T08:00:00+08:00",
        archived_at="2026-10-01T12:00:00+08:00"))]))  # corrected into a year without a figure
    backfill = _kpis(ministry)[("beijing", Kpi.backfill)]
    assert (backfill.numerator, backfill.value, backfill.status) == (1, 0.5, Status.behind)
    assert _kpis(ministry)[("shandong", Kpi.backfill)].status == Status.unknown


def test_freshness_is_the_age_of_the_last_accepted_batch(ministry):
    _fleet(ministry)
    assert _kpis(ministry)[("beijing", Kpi.exchange_freshness)].status == Status.passed
    stale = _kpis(ministry, later=timedelta(hours=25))[("shandong", Kpi.exchange_freshness)]
    assert (stale.value, stale.target, stale.status) == (25 * 3600, 24 * 3600, Status.behind)


def test_loading_the_yearbook_twice_changes_nothing_and_a_correction_is_audited(ministry):
    figures = [_figure("beijing", "110000", 2024, 1000, "2.00"), _figure("yunnan", "530000", 2024, 3000, "7.1")]
    assert [r["outcome"] for r in _load(ministry, figures)] == ["created", "created"]
    assert [r["outcome"] for r in _load(ministry, figures)] == ["unchanged", "unchanged"]
    corrected = _figure("yunnan", "530000", 2024, 3000, "7.20")
    assert [r["outcome"] for r in _load(ministry, [figures[0], corrected])] == ["unchanged", "updated"]
    with Session(ministry.state.ctx.engine) as s:
        entry = last_audit(s)
        assert (entry.action, entry.object_id, entry.actor) == ("national.expected_deaths.load", "yunnan/2024",
                                                                 "fsp-yearbook")
        detail = json.loads(entry.detail)
        assert (detail["before"]["death_rate_permille"], detail["after"]["death_rate_permille"]) == (
            "7.10", "7.20")
        assert yearbook.expected_in(s, year=2024)["yunnan"].expected_deaths == 21


def test_the_ministry_reads_completeness_and_kpis_audited_and_downloads_completeness(ministry):
    _fleet(ministry)
    operator = {"Authorization": "Bearer " + ministry.state.ctx.issuer.mint("op-1", ["ministry-operator"])}
    with TestClient(ministry) as client:
        answer = client.get("/api/v1/national/completeness", params={"year": 2026}, headers=operator)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert [(p["province"], p["registered"], p["expected"], p["ratio"]) for p in body["provinces"]] == [
            ("beijing", 4, 5, 0.8), ("shandong", 1, None, None)]
        assert (body["nation"]["ratio"], body["provinces_counted"]) == (0.8, 1)
        with Session(ministry.state.ctx.engine) as s:
            assert (last_audit(s).action, last_audit(s).actor) == ("national.completeness", "op-1")
        table = client.get("/api/v1/national/kpis", params={"year": 2026}, headers=operator).json()
        statuses = {(r["province"], r["kpi"]): r["status"] for r in table["rows"]}
        assert statuses == {("beijing", "online_institutions"): "behind", ("beijing", "online_services"): "behind",
                            ("beijing", "backfill"): "pass", ("beijing", "exchange_freshness"): "pass",
                            ("shandong", "online_institutions"): "unknown", ("shandong", "online_services"): "unknown",
                            ("shandong", "backfill"): "unknown", ("shandong", "exchange_freshness"): "pass"}
        assert table["online_next_target"] == 0.9
        exported = client.get("/api/v1/national/completeness/export", params={"year": 2026}, headers=operator)
        registrar = {"Authorization": "Bearer " + ministry.state.ctx.issuer.mint("r", ["registrar"])}
        assert client.get("/api/v1/national/kpis", params={"year": 2026}, headers=registrar).status_code == 403
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows == [["省份", "省级代码", "省份名称", "年份", "登记死亡人数", "预期死亡人数", "登记完整率", "预期数来源"],
                    ["beijing", "110000", "北京市", "2026", "4", "5", "0.8", "测试年鉴 表2-9"],
                    ["shandong", "370000", "山东省", "2026", "1", "无预期数", "无预期数", ""],
                    ["全国", "", "全国", "2026", "4", "5", "0.8", ""]]
