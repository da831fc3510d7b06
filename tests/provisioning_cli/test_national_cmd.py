"""`fsp national load-yearbook` into a local ministry, and the plan's KPIs in `fsp fleet status`."""
import json
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlmodel import Session

from kc_double.runner import BackgroundServer
from national_events import batch, case, institution_event
from provisioning_cli.targets.local import LocalTarget
from registry.db import make_engine
from registry.exchange import service as exchange
from registry.journal import Journal
from registry.national import kpis
from registry.security.auth import DevelopmentIssuer
from registry.security.keys import load_keys
from served import serving_locally
from tenants import load_catalog

CHINA = ZoneInfo("Asia/Shanghai")

HEADING = "province_code,year,population_10k,death_rate_permille,source\n"


@pytest.fixture
def ministry(fsp, home: Path) -> LocalTarget:
    fsp("up", "ministry")
    return LocalTarget(home, load_catalog())


def test_the_catalogs_table_loads_once_and_a_published_one_corrects_it(fsp_json, fsp, ministry, tmp_path):
    first = fsp_json("national", "load-yearbook")
    assert (first["source"], first["created"], first["unchanged"]) == ("catalog", 31, 0)
    beijing = next(row for row in first["rows"] if row["province"] == "beijing")
    assert (beijing["year"], beijing["expected_deaths"]) == (1999, 70_392)
    assert fsp_json("national", "load-yearbook")["unchanged"] == 31
    edition = tmp_path / "yearbook-2000.csv"
    edition.write_text(HEADING + "110000,1999,1257,5.61,中国统计年鉴2000 表4-3 (corrected)\n"
                                 "530000,2000,4241,7.42,中国统计年鉴2001 表4-3\n", encoding="utf-8")
    loaded = fsp_json("national", "load-yearbook", str(edition))
    assert [(r["province"], r["year"], r["outcome"]) for r in loaded["rows"]] == [
        ("beijing", 1999, "updated"), ("yunnan", 2000, "created")]
    assert "0 created, 0 updated, 2 unchanged" in fsp("national", "load-yearbook", str(edition)).stdout


def test_a_bad_table_lists_every_problem_and_loads_nothing(fsp, fsp_json, ministry, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADING + "530000,2000,4241,7.42,中国统计年鉴2001 表4-3\n990000,2000,1,1,x\n120000,2000,1,99,x\n",
                   encoding="utf-8")
    result = fsp("national", "load-yearbook", str(bad), ok=False)
    assert "line 3: province_code" in result.stderr and "line 4: death_rate_permille" in result.stderr
    assert "nothing loaded" in result.stderr
    good = tmp_path / "good.csv"
    good.write_text(HEADING + "530000,2000,4241,7.42,中国统计年鉴2001 表4-3\n", encoding="utf-8")
    assert fsp_json("national", "load-yearbook", str(good))["created"] == 1  # the bad table's row was not taken


def test_each_provisioned_province_gets_its_own_rows_for_its_own_figures(fsp, fsp_json, ministry):
    fsp("up", "beijing")
    loaded = fsp_json("national", "load-yearbook")
    assert loaded["provinces"] == {"beijing": 1} and loaded["created"] == 31  # 1999 only in the catalog
    beijing = ministry.catalog.resolve("beijing")
    with ministry.engine(beijing) as engine, Session(engine) as session:
        rows, _ = kpis.completeness(session, year=1999, own=("beijing", "110000"))
    assert [(row.province, row.expected) for row in rows] == [("beijing", 70_392)]
    assert fsp_json("national", "load-yearbook")["provinces"] == {"beijing": 1}  # unchanged, counted again
    assert "also in each province's own figures: beijing (1)" in fsp("national", "load-yearbook").stdout


def test_loading_needs_a_provisioned_ministry(fsp):
    assert "ministry is not provisioned here" in fsp("national", "load-yearbook", ok=False).stderr


@pytest.fixture
def prometheus():
    """A ministry Prometheus that sees beijing up and nothing firing."""
    app = FastAPI()

    @app.get("/api/v1/query")
    async def instant(request: Request):
        firing = "ALERTS" in request.query_params["query"]
        result = [] if firing else [{"metric": {"province": "beijing"}, "value": [0, "1"]}]
        return {"status": "success", "data": {"resultType": "vector", "result": result}}

    with BackgroundServer(app) as url:
        yield url


def test_fleet_status_shows_each_kpi_with_its_target_and_a_mark(fsp, ministry, prometheus, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # a table on one line per province, as on an SRE's terminal
    institution, dead = uuid.UUID(int=7), uuid.uuid4()
    settings = ministry.settings(ministry.catalog.ministry)
    engine = make_engine(settings)
    try:
        journal = Journal.of(engine, keys_dir=settings.keys_dir, checkpoint_file=settings.audit_checkpoint_path)
        with Session(engine) as session:
            exchange.receive_batch(session, batch("beijing", 1, [
                ("institution.created", institution, institution_event(institution)),
                ("institution.created", uuid.UUID(int=9), institution_event(uuid.UUID(int=9))),
                ("case.declared", dead, case(dead, death_at="2026-01-02T10:00:00+08:00"))]), journal=journal)
    finally:
        engine.dispose()
    rows = json.loads(fsp("fleet", "status", "--prometheus-url", prometheus, "--json").stdout)
    [beijing] = [row for row in rows if row["tenant"] == "beijing"]  # every tenant of the catalog has a row
    kpis = {k["kpi"]: k for k in beijing["kpis"]}
    assert (kpis["exchange_freshness"]["status"], kpis["backfill"]["status"]) == ("pass", "unknown")
    assert (kpis["online_services"]["value"], kpis["online_services"]["status"]) == (0.0, "behind")  # none booked
    table = fsp("fleet", "status", "--prometheus-url", prometheus).stdout
    assert "institutions online (≥ 60%)" in table and "backfill since 2010 (≥ 95%)" in table
    assert "serving citizens online (≥ 90%)" in table
    assert "no expected figure ? unknown" in table and "✓ pass" in table


def ministry_token(local: LocalTarget, role: str) -> dict:
    settings = local.settings(local.catalog.ministry)
    issuer = DevelopmentIssuer(load_keys(settings.keys_dir).token_private_pem, issuer=settings.issuer,
                               audience=settings.token_audience)
    return {"Authorization": "Bearer " + issuer.mint("op-1", [role])}


def test_demo_cases_fill_a_province_and_reach_the_ministrys_figures(fsp, fsp_json, ministry, home):
    """Sample deaths made through beijing's API under `fsp serve` (real HTTP), shipped: the ministry counts them."""
    fsp("up", "beijing")
    with serving_locally(home) as url:
        made = fsp_json("national", "demo-cases", "beijing", "--cases", "6", "--seed", "11")
        again = fsp_json("national", "demo-cases", "beijing", "--cases", "6", "--seed", "11")
        fsp("exchange", "ship", "beijing")
        operator = ministry_token(ministry, "ministry-operator")
        year = datetime.now(CHINA).year
        indicators = {}
        for y in (year - 1, year):
            answer = httpx.get(f"{url}/ministry/api/v1/national/indicators", params={"year": y}, headers=operator,
                               timeout=10)
            assert answer.status_code == 200, answer.text
            indicators[y] = answer.json()["nation"]
    assert [(r["province"], r["declared"], r["duplicates"], r["cremated"], r["certificates"], r["destinations"])
            for r in made] == [("beijing", 6, 0, 3, 3, 3)]
    assert (again[0]["declared"], again[0]["duplicates"]) == (0, 6)  # the same seed: the same people, refused
    assert sum(figures["deaths"] for figures in indicators.values()) == 6  # deaths over the last 400 days
    assert sum(figures["certificates_issued"] for figures in indicators.values()) == 3
    assert "the ministry" in fsp("national", "demo-cases", "ministry", ok=False).stderr


def test_demo_cases_need_fsp_serve(fsp, ministry):
    fsp("up", "beijing")
    assert "`fsp serve` does not answer" in fsp("national", "demo-cases", "beijing", "--cases", "1", ok=False).stderr
