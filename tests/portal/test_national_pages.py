"""The ministry's portal over its site's app: the provinces that report, one search across them linking each
institution to its own province's portal (or the ministry's page of it), the figures (counts only), and pages
that show a province's next batch on the next load."""
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from assertions import text_of
from infra.ensure.keys import ensure_tenant_keys
from infra.ensure.registration import ensure_exchange_registration
from national_events import disclosure_event, fee_event, institution_event
from national_events import payload_batch as batch
from portal.pages import china_today
from registry.config import Role, Settings
from registry.exchange.signing import SIGNATURE_HEADER, BatchSigner, canonical, public_key_set
from registry.national.models import PersonMatch

BAOSHAN, XISHAN, JINAN = uuid.UUID(int=1), uuid.UUID(int=2), uuid.UUID(int=3)
PERSON = "c" * 64


@pytest.fixture
def signers(tmp_path: Path) -> dict[str, BatchSigner]:
    """beijing's and shandong's exchange keys, as provisioning makes them."""
    signers = {}
    for slug in ("beijing", "shandong"):
        ensure_tenant_keys(tmp_path / f"{slug}-keys")
        signers[slug] = BatchSigner(tmp_path / f"{slug}-keys")
    return signers


@pytest.fixture
def ministry_site(database_url: str, tmp_path: Path, signers) -> Iterator:
    from portal.site import create_site

    peers = tmp_path / "peers"
    for slug in signers:
        ensure_exchange_registration(peers, slug=slug,
                                     public_pem=public_key_set(tmp_path / f"{slug}-keys"))
    settings = Settings(tenant_code="100000", tenant_slug="ministry", role=Role.ministry, database_url=database_url,
                        keys_dir=tmp_path / "ministry-keys", exchange_peers_dir=peers, environment="development")
    site = create_site(settings, name="民政部全国殡葬服务平台", served=lambda: {"beijing"})  # shandong runs elsewhere
    yield site
    site.state.ctx.engine.dispose()


@pytest.fixture
def ministry(ministry_site) -> Iterator[TestClient]:
    with TestClient(ministry_site) as client:
        yield client


@pytest.fixture
def ship(ministry, signers) -> Callable[[dict], None]:
    """`ship(batch)`: the province's signed batch posted to the ministry as its shipper does."""
    def _ship(body: dict) -> None:
        content = canonical(body)
        response = ministry.post("/api/v1/exchange/batches", content=content,
                                 headers={SIGNATURE_HEADER: signers[body["province"]].sign(content)})
        assert response.status_code == 200, response.text
    return _ship


def _case(case_id: uuid.UUID) -> dict:
    return {"id": str(case_id), "status": "declared", "institution_id": str(BAOSHAN), "deceased_name": "张三",
            "sex": "1", "ethnicity": "01", "id_type": "resident_id", "id_number": "110105************",
            "birth_date": "1931-03-01", "household_region": "110105", "death_at": datetime.now(UTC).isoformat(),
            "death_place_type": "hospital", "death_manner": "normal", "cause_category": "disease",
            "person_ref": PERSON}


@pytest.fixture
def shipped(ship) -> None:
    """beijing: two institutions, fees (one ended), a disclosure and two deaths; shandong: one institution."""
    case = uuid.uuid4()
    ship(batch("beijing", 1, [
        ("institution.created", institution_event(BAOSHAN)),
        ("institution.created", institution_event(XISHAN, name="西山公益性公墓", type="public_cemetery",
                                                  region_code="110108", address="海淀区香山路2号")),
        ("service_item.published", fee_event(uuid.uuid4(), BAOSHAN)),
        ("service_item.published", fee_event(uuid.uuid4(), BAOSHAN, name="遗体冷藏", effective_to="2025-01-01")),
        ("institution_disclosure.published", disclosure_event(BAOSHAN)),
        ("case.declared", _case(case)), ("case.declared", _case(uuid.uuid4())),
        ("cremation.recorded", {"id": str(uuid.uuid4()), "case_id": str(case), "institution_id": str(BAOSHAN),
                                "started_at": datetime.now(UTC).isoformat(), "ended_at": datetime.now(UTC).isoformat()}),
    ]))
    ship(batch("shandong", 1, [
        ("institution.created", institution_event(JINAN, name="济南市殡仪馆", region_code="370102",
                                                  address="历下区经十路1号")),
        ("service_item.published", fee_event(uuid.uuid4(), JINAN, price_fen=45000)),
    ]))


def test_home_is_the_national_platform_linking_each_reporting_province(ministry, shipped):
    page = ministry.get("/")

    assert page.status_code == 200 and "<h1>全国殡葬服务平台</h1>" in page.text
    assert "<title>全国殡葬服务平台</title>" in page.text
    assert '<a href="/beijing/">北京市</a>' in page.text  # served by this same server: its own portal
    assert '<a href="/institutions?province=shandong">山东省</a>' in page.text  # not here: the national directory
    assert 'href="/figures"' in page.text


def test_the_directory_finds_each_provinces_institutions_and_links_them(ministry, shipped):
    found = ministry.get("/institutions", params={"q": "殡仪馆"})
    words = text_of(found.text)

    assert found.status_code == 200 and "共找到 2 家机构" in words
    assert f'href="/beijing/institutions/{BAOSHAN}">八宝山殡仪馆</a>' in found.text
    assert f'href="/institutions/shandong/{JINAN}">济南市殡仪馆</a>' in found.text
    assert "所在省份 山东省" in words and "所在省份 北京市" in words
    shandong = text_of(ministry.get("/institutions", params={"province": "shandong"}).text)
    assert "济南市殡仪馆" in shandong and "八宝山殡仪馆" not in shandong
    cemeteries = ministry.get("/institutions", params={"type": "public_cemetery", "region": "110108"})
    assert "西山公益性公墓" in cemeteries.text and "共找到 1 家机构" in text_of(cemeteries.text)
    assert '<option value="shandong" selected>' not in cemeteries.text


def test_a_province_not_reporting_is_refused_beside_its_field(ministry, shipped):
    page = ministry.get("/institutions", params={"q": "殡仪馆", "province": "atlantis"})

    assert page.status_code == 400
    assert '<a href="#province">请从列表中选择省份</a>' in page.text and 'id="province-error"' in page.text
    assert 'value="殡仪馆"' in page.text


def test_the_directory_pages_by_twenty(ministry, ship):
    ship(batch("shandong", 1, [("institution.created", institution_event(
        uuid.UUID(int=100 + n), name=f"示范殡仪服务站{n:02d}", region_code="370102")) for n in range(21)]))
    first, second = ministry.get("/institutions"), ministry.get("/institutions", params={"page": "2"})

    assert first.text.count('class="result"') == 20 and 'rel="next" href="/institutions?page=2"' in first.text
    assert second.text.count('class="result"') == 1 and "示范殡仪服务站20" in second.text
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text


def test_an_institution_of_a_province_served_elsewhere_shows_its_fees_and_disclosure(ministry, shipped):
    page = ministry.get(f"/institutions/beijing/{BAOSHAN}")
    words = text_of(page.text)

    assert page.status_code == 200 and "<h1>八宝山殡仪馆</h1>" in page.text
    assert "北京市报送" in words and "遗体火化 基本服务 480.00 元 具 政府定价" in words
    assert "遗体冷藏" not in words  # ended before today
    assert "24小时接运遗体" in words and "010-68870000" in words
    assert ministry.get(f"/institutions/shandong/{BAOSHAN}").status_code == 404  # not shandong's
    assert ministry.get("/institutions/beijing/not-an-id").status_code == 404


def test_figures_count_each_province_and_show_no_case(ministry, shipped):
    page = ministry.get("/figures")
    words = text_of(page.text)
    year = china_today().year

    assert page.status_code == 200 and "<h1>全国殡葬服务数据</h1>" in page.text
    assert f"{year}年死亡登记" in words and f"{year - 1}年死亡登记" in words
    assert "北京市 2 0 1 0 50.0%" in words and "山东省 0 0 0 0 —" in words and "合计 2 0 1 0 50.0%" in words
    # the same figures drawn: a bar per province, named for a screen reader
    assert page.text.count('<svg class="chart"') == 2 and f"<title id=\"rate-chart-title\">{year}年各省份火化率" in page.text
    assert PERSON not in page.text and "张三" not in page.text


def test_a_province_s_next_batch_shows_on_the_next_load(ministry, shipped, ship):
    before = text_of(ministry.get("/figures").text)  # rendered and kept
    ship(batch("shandong", 3, [("case.declared", {**_case(uuid.uuid4()), "household_region": "370102"})]))
    after = text_of(ministry.get("/figures").text)

    assert "山东省 0 0 0 0" in before and "山东省 1 0 0 0" in after


def test_a_province_keeps_its_own_pages(site_client, published):
    assert "<h1>北京市殡葬服务平台</h1>" in site_client.get("/").text
    assert site_client.get("/figures").status_code == 404


def test_figures_show_completeness_and_the_plans_kpis_with_their_marks_in_words(ministry_site, ministry, shipped):
    from decimal import Decimal

    from sqlmodel import Session

    from registry.national import yearbook

    year = china_today().year
    with Session(ministry_site.state.ctx.engine) as session:  # beijing: 1,000 people × 8.00 ‰ = 8 expected deaths
        yearbook.load(session, ministry_site.state.ctx.journal, [yearbook.ExpectedFigure(
            province_slug="beijing", province_code="110000", year=year, population=1000,
            death_rate_permille=Decimal("8.00"), expected_deaths=8, source="测试年鉴 表2-9")], actor="test")
    words = text_of(ministry.get("/figures").text)

    assert f"{year}年登记完整率" in words
    # 2 registered of 8 expected; shandong has no yearbook figure and gets none made up
    assert "北京市 2 0 1 0 50.0% 25.0%" in words and "山东省 0 0 0 0 — 无预期数" in words
    assert "合计 2 0 1 0 50.0% 25.0%" in words
    assert f"规划目标完成情况（{year}年）" in words and "殡葬服务机构网上办事占比（目标 ≥ 60%）" in words
    # the funeral home worked on the platform, the cemetery not: behind, said in words beside the mark
    assert "北京市 50.0%（1/2） ✗ 未达标 0.0%（0/2） ✗ 未达标 无预期数 – 暂无数据 0小时0分钟前 ✓ 达标" in words
    assert "山东省 0.0%（0/1） ✗ 未达标" in words


def test_figures_show_each_provinces_online_services_of_the_year(ministry, shipped, ship):
    """beijing, this year: one booking at the funeral home, a complaint against the cemetery closed as upheld, two
    ratings (4 and 5); shandong nothing online."""
    complaint_id, now = uuid.uuid4(), datetime.now(UTC).isoformat()

    def complaint(status: str, **extra) -> dict:
        return {"complaint_id": str(complaint_id), "number": "TS20261001ABCDEF12", "institution_id": str(XISHAN),
                "category": "pricing", "status": status, "due_on": "2026-10-22", "received_on": "2026-10-01", **extra}

    body = batch("beijing", 9, [
        ("booking.held", {"booking_id": str(uuid.uuid4()), "institution_id": str(BAOSHAN), "resource_kind": "hall",
                          "resource_id": str(uuid.uuid4()), "status": "held", "starts_at": now}),
        ("complaint.received", complaint("received")),
        ("complaint.closed", complaint("closed", upheld=True)),
        *[("rating.submitted", {"id": str(uuid.uuid4()), "institution_id": str(BAOSHAN), "service_kind": "farewell",
                                "score": score, "rated_at": now}) for score in (4, 5)]])
    for event in body["events"]:
        event["at"] = now  # this year's
    ship(body)
    words = text_of(ministry.get("/figures").text)

    online = words.split(f"网上办事情况（{china_today().year}年）", 1)[1]
    assert "审批申请 超期办理 网上预约 投诉受理 投诉属实 服务评价 网上纪念馆 平均评分" in online
    assert "北京市 0 0 1 1 1 2 0 4.5分" in online and "山东省" not in online
    # the funeral home took a booking online, the cemetery none: 1 of 2 institutions serve citizens online
    assert "北京市 50.0%（1/2） ✗ 未达标 50.0%（1/2） ✗ 未达标" in words


def test_figures_count_each_provinces_cross_province_pairs_and_what_it_found(ministry_site, ministry, shipped, ship):
    """shandong registers the person beijing registered twice: two pairs; beijing checks one of them."""
    ship(batch("shandong", 3, [("case.declared", _case(uuid.uuid4()))]))
    with Session(ministry_site.state.ctx.engine) as session:
        pairs = session.exec(select(PersonMatch).order_by(PersonMatch.id)).all()
    assert len(pairs) == 2
    side = "a" if pairs[0].province_a == "beijing" else "b"
    ship(batch("beijing", 9, [("cross_province_match.settled", {
        "match_id": pairs[0].id, "case_id": str(getattr(pairs[0], f"case_{side}")), "finding": "same_person",
        "other_province": "shandong", "settled_at": datetime.now(UTC).isoformat()})]))
    words = text_of(ministry.get("/figures").text)

    table = words.split("跨省重复登记", 1)[1]
    assert "重复登记线索 本省已核查 确认为同一人" in table
    assert "北京市 2 1 1" in table and "山东省 2 0 0" in table


def _listed(institution_id: uuid.UUID, name: str, region: str, listing: str | None, **changes) -> dict:
    """A `credit.list_changed` payload as a province's evaluation sends it."""
    return {"institution_id": str(institution_id), "name": name, "credit_code": "12110000000000001X",
            "region_code": region, "year": china_today().year, "listing": listing, "previous": None, "score": 35,
            "reasons": [{"code": "serious_penalty", "text": "受到严重行政处罚（京民罚〔2026〕1号）"}], "manual": False,
            "changed_at": "2026-10-02T10:00:00+08:00", **changes}


def test_the_ministry_shows_every_provinces_red_and_black_lists(ministry, ship):
    ship(batch("beijing", 1, [("credit.list_changed", _listed(BAOSHAN, "八宝山殡仪馆", "110107", "black")),
                              ("credit.list_changed", _listed(XISHAN, "西山殡仪服务站", "110108", "red", score=96,
                                                              reasons=[{"code": "score_at_least", "text": "得分 96"}]))]))
    ship(batch("shandong", 1, [("credit.list_changed", _listed(JINAN, "济南市殡仪馆", "370102", "red", score=92,
                                                               reasons=[{"code": "score_at_least", "text": "得分 92"}]))]))
    assert 'href="/credit-lists"' in ministry.get("/").text

    shown = text_of(ministry.get("/credit-lists").text)

    red, black = shown.split(f"{china_today().year} 年度黑名单")
    assert "北京市 西山殡仪服务站" in red and "山东省 济南市殡仪馆" in red and "八宝山" not in red
    assert "北京市 八宝山殡仪馆 12110000000000001X 35 受到严重行政处罚（京民罚〔2026〕1号）" in black
    # beijing takes 八宝山 off the black list: the next load shows it
    ship(batch("beijing", 3, [("credit.list_changed", _listed(BAOSHAN, "八宝山殡仪馆", "110107", None, previous="black"))]))
    assert "八宝山" not in text_of(ministry.get("/credit-lists").text)
