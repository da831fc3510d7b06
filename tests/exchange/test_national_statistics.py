"""Statistics for decisions, counted at ingest: each figure against a hand count of the events sent, corrections
moving a death between buckets, replays counting nothing, and the ministry's audited API."""
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from assertions import assert_problem, last_audit
from national_events import ashes, batch, case, certificate, cremation
from registry.app import create_app
from registry.config import Role
from registry.exchange import service as exchange
from registry.national import statistics
from registry.national.statistics import NationalCount, age_band


@pytest.fixture
def ministry(settings):
    """The ministry's registry (its national API mounted) on a migrated database."""
    app = create_app(settings.model_copy(update={"role": Role.ministry, "tenant_code": "100000",
                                                 "tenant_slug": "ministry"}))
    yield app
    app.state.ctx.engine.dispose()


def _receive(app, *batches) -> None:
    with Session(app.state.ctx.engine) as session:
        for sent in batches:
            exchange.receive_batch(session, sent, journal=app.state.ctx.journal)


def _ids(n: int) -> list[uuid.UUID]:
    return [uuid.uuid4() for _ in range(n)]


def _fleet(app) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Beijing: 4 deaths in October 2026 (3 men, 1 woman aged 62; one from 110108), 3 cremated, 3 certificates
    (one reissued, which cancels the first), destinations: 1 sea, 1 public cemetery. Shandong: 2 deaths (one in
    September, an accident), 1 cremated."""
    b = _ids(4)
    s = _ids(2)
    _receive(app, batch("beijing", 1, [
        ("case.declared", b[0], case(b[0])),
        ("case.declared", b[1], case(b[1])),
        ("case.declared", b[2], case(b[2], sex="2", birth_date="1964-01-01")),
        ("case.declared", b[3], case(b[3], household_region="110108")),
        *[("cremation.recorded", b[i], cremation(b[i])) for i in range(3)],
        ("certificate.issued", b[0], certificate(b[0], "C-1")),
        ("certificate.issued", b[1], certificate(b[1], "C-2")),
        ("certificate.reissued", b[0], {**certificate(b[0], "C-3", replaces_id=str(uuid.uuid5(b[0], "C-1"))),
                                        "replaced": certificate(b[0], "C-1", status="cancelled",
                                                                cancelled_at="2026-10-05T09:00:00+08:00")}),
        ("ashes_destination.recorded", b[0], ashes(b[0], destination="sea_scattering", institution_id=None)),
        ("ashes_destination.recorded", b[1], ashes(b[1])),
    ]), batch("shandong", 1, [
        ("case.declared", s[0], case(s[0], household_region="370102", person_ref="b" * 64)),
        ("case.declared", s[1], case(s[1], household_region="370102", death_at="2026-09-30T23:30:00+08:00",
                                     cause_category="accident", person_ref="c" * 64)),
        ("cremation.recorded", s[0], cremation(s[0])),
    ]))
    return b, s


def test_age_bands_count_birthdays_in_full():
    from datetime import date
    assert age_band(date(1931, 3, 1), date(2026, 2, 28)) == "90+"  # 94, a day before the 95th birthday
    assert age_band(date(1964, 10, 2), date(2026, 10, 1)) == "60-69"  # 61
    assert age_band(date(2020, 1, 1), date(2026, 10, 1)) == "0-14"


def test_each_figure_matches_a_hand_count(ministry):
    _fleet(ministry)
    with Session(ministry.state.ctx.engine) as s:
        assert statistics.totals(s, metric="deaths", year=2026, by="month") == {"9": 1, "10": 5}
        assert statistics.totals(s, metric="deaths", year=2026, province="beijing", by="sex") == {"1": 3, "2": 1}
        assert statistics.totals(s, metric="deaths", year=2026, province="beijing", by="age_band") == {
            "90+": 3, "60-69": 1}
        assert statistics.totals(s, metric="deaths", year=2026, by="category") == {"disease": 5, "accident": 1}
        assert statistics.totals(s, metric="deaths", year=2026, month=10, province="shandong") == {"": 1}
        counties = statistics.table(s, metric="deaths", year=2026, province="beijing", level="county")
        assert [(r["area"], r["count"]) for r in counties] == [("110105", 3), ("110108", 1)]
        prefectures = statistics.table(s, metric="deaths", year=2026, level="prefecture")
        assert [(r["province"], r["area"], r["count"]) for r in prefectures] == [
            ("beijing", "1101", 4), ("shandong", "3701", 2)]
        assert statistics.totals(s, metric="cremations", year=2026) == {"": 4}
        assert statistics.totals(s, metric="certificates", year=2026, by="category") == {
            "issued": 2, "reissued": 1, "cancelled": 1}
        assert statistics.totals(s, metric="ashes_destinations", year=2026, by="category") == {
            "sea_scattering": 1, "public_cemetery": 1}


def test_a_correction_moves_the_death_and_a_replay_counts_nothing(ministry):
    b, _ = _fleet(ministry)
    _receive(ministry, batch("beijing", 13, [("case.corrected", b[3], case(b[3], household_region="110105",
                                                                             sex="2"))]))
    _receive(ministry, batch("beijing", 1, [("case.declared", b[0], case(b[0]))]))  # a replay of the first batch
    with Session(ministry.state.ctx.engine) as s:
        counties = statistics.table(s, metric="deaths", year=2026, province="beijing", level="county", by="sex")
        assert [(r["area"], r["value"], r["count"]) for r in counties] == [("110105", "1", 2), ("110105", "2", 2)]
        assert statistics.totals(s, metric="deaths", year=2026) == {"": 6}
        assert statistics.totals(s, metric="certificates", year=2026, by="category")["issued"] == 2


def test_the_counts_kept_at_ingest_equal_a_recount_from_the_records(ministry):
    _fleet(ministry)
    with Session(ministry.state.ctx.engine) as s:
        kept = sorted((c.model_dump() for c in s.exec(statistics.select(NationalCount)) if c.count), key=str)
        statistics.rebuild(s)
        s.commit()
        recounted = sorted((c.model_dump() for c in s.exec(statistics.select(NationalCount))), key=str)
    assert kept == recounted and len(kept) > 5


def test_the_ministry_reads_indicators_and_tables_audited(ministry):
    _fleet(ministry)
    operator = {"Authorization": "Bearer " + ministry.state.ctx.issuer.mint("op-1", ["ministry-operator"])}
    with TestClient(ministry) as client:
        answer = client.get("/api/v1/national/indicators", params={"year": 2026}, headers=operator)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        beijing = next(p for p in body["provinces"] if p["province"] == "beijing")
        assert (beijing["deaths"], beijing["cremations"], beijing["cremation_rate"]) == (4, 3, 0.75)
        assert (beijing["eco_destinations"], beijing["eco_share"]) == (1, 0.5)
        assert (beijing["certificates_issued"], beijing["certificates_reissued"],
                beijing["certificates_cancelled"]) == (2, 1, 1)
        assert (body["nation"]["deaths"], body["nation"]["cremations"], body["nation"]["cremation_rate"]) == (
            6, 4, round(4 / 6, 4))
        with Session(ministry.state.ctx.engine) as s:
            entry = last_audit(s)
            assert (entry.action, entry.actor) == ("national.indicators", "op-1")
        table = client.get("/api/v1/national/statistics/deaths", headers=operator,
                           params={"year": 2026, "level": "county", "by": "place", "province": "shandong"})
        assert [(r["area"], r["value"], r["count"]) for r in table.json()["rows"]] == [("370102", "hospital", 2)]
        refused = client.get("/api/v1/national/statistics/cremations", headers=operator,
                             params={"year": 2026, "by": "sex"})
        assert_problem(refused, 422, "by", "dimension")
        registrar = {"Authorization": "Bearer " + ministry.state.ctx.issuer.mint("r", ["registrar"])}
        assert client.get("/api/v1/national/indicators", params={"year": 2026}, headers=registrar).status_code == 403


def test_a_table_downloads_as_csv_and_xlsx_with_chinese_headings(ministry):
    import csv
    import io

    from openpyxl import load_workbook

    _fleet(ministry)
    operator = {"Authorization": "Bearer " + ministry.state.ctx.issuer.mint("op-1", ["ministry-operator"])}
    asked = {"year": 2026, "level": "county", "province": "beijing"}
    with TestClient(ministry) as client:
        as_csv = client.get("/api/v1/national/statistics/deaths/export", headers=operator, params=asked)
        as_xlsx = client.get("/api/v1/national/statistics/deaths/export", headers=operator,
                             params={**asked, "format": "xlsx"})
    assert as_csv.status_code == 200 and as_csv.content.startswith(b"\xef\xbb\xbf")
    assert 'filename="deaths-2026-county.csv"' in as_csv.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows == [["省份", "地区代码", "地区名称", "分组", "数量"], ["beijing", "110105", "朝阳区", "", "3"],
                    ["beijing", "110108", "海淀区", "", "1"]]
    sheet = load_workbook(io.BytesIO(as_xlsx.content), read_only=True).active
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        ["省份", "地区代码", "地区名称", "分组", "数量"], ["beijing", "110105", "朝阳区", None, 3],
        ["beijing", "110108", "海淀区", None, 1]]  # an empty cell, as Excel reads it


def test_a_death_in_a_summer_of_daylight_saving_time_counts_in_its_chinese_month(ministry):
    """China kept UTC+9 in the summers of 1986-1991: 15:30 UTC on 31 July 1988 was already 1 August there."""
    (old,) = _ids(1)
    _receive(ministry, batch("beijing", 1, [("case.declared", old, case(old, birth_date="1920-01-01",
                                                                        death_at="1988-07-31T15:30:00+00:00"))]))
    with Session(ministry.state.ctx.engine) as s:
        assert statistics.totals(s, metric="deaths", year=1988, by="month") == {"8": 1}


def test_a_batch_takes_as_many_statements_whatever_its_size(ministry):
    """Set-wise ingest: ten times the events, not ten times the round trips."""
    from sqlalchemy import event

    def statements(province: str, cases: int) -> int:
        ids = _ids(cases)
        sent = batch(province, 1, [*[("case.declared", i, case(i, person_ref=i.hex * 2)) for i in ids],
                                   *[("cremation.recorded", i, cremation(i)) for i in ids]])
        counted = []
        listener = lambda *args: counted.append(1)  # noqa: E731
        event.listen(ministry.state.ctx.engine, "before_cursor_execute", listener)
        try:
            _receive(ministry, sent)
        finally:
            event.remove(ministry.state.ctx.engine, "before_cursor_execute", listener)
        return len(counted)

    statements("yunnan", 1)  # the first one also connects and reads the write head
    assert statements("beijing", 5) == statements("shandong", 50)
