"""The province's own figures in the workbench (本省殡葬数据): its administrator sees the year's indicators, deaths by
month and prefecture (charts with their tables) and the plan's KPIs once the sweep has brought them up to date,
and downloads the statistics as files; other roles are refused."""
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from assertions import text_of
from factories import case_payload
from registry.national import own_figures

CHINA = ZoneInfo("Asia/Shanghai")


def _declared_and_counted(site, site_client, institution_id: str, count: int) -> datetime:
    """`count` deaths two days ago in 北京 (household region 110105), then the figures brought up to date."""
    token = site.state.ctx.issuer.mint("registrar-1", ["registrar"], institution_id=uuid.UUID(institution_id))
    death = datetime.now(CHINA) - timedelta(days=2)
    for _ in range(count):
        made = site_client.post("/api/v1/cases", json=case_payload(institution_id, death_at=death.isoformat()),
                                headers={"Authorization": f"Bearer {token}"})
        assert made.status_code == 201, made.text
    with Session(site.state.ctx.engine) as session:
        own_figures.catch_up_tenant(session, site.state.ctx)
    return death


def test_the_provincial_admin_sees_the_years_figures(site, site_client, staff_client, institution_id):
    before = text_of(staff_client("provincial-admin").get("/workbench/figures").text)
    assert "数据尚未汇总" in before

    death = _declared_and_counted(site, site_client, institution_id, 3)
    page = staff_client("provincial-admin").get("/workbench/figures")
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "本省殡葬数据" in shown and "数据更新至" in shown and "另有" not in shown
    assert f"{death.month}月 3" in shown  # the month's row of the table beside the chart
    assert "市辖区 3" in shown  # 1101xx: Beijing's districts
    assert "殡葬服务机构网上办事占比（目标 ≥ 60%） 100.0%（1/1） ✓ 达标" in shown
    assert page.text.count("<svg") == 2 and "各月死亡登记人数" in shown
    assert "/workbench/figures/export/deaths-county?year=" in page.text


def test_the_statistics_download_as_files(site, site_client, staff_client, institution_id):
    death = _declared_and_counted(site, site_client, institution_id, 2)
    admin = staff_client("provincial-admin")
    csv = admin.get(f"/workbench/figures/export/deaths-county?year={death.year}&format=csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.content.startswith("\ufeff".encode()) and "110105" in csv.text and "2" in csv.text
    assert f'filename="deaths-county-{death.year}.csv"' in csv.headers["content-disposition"]
    xlsx = admin.get(f"/workbench/figures/export/deaths-cause?year={death.year}&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"  # a zip: the workbook
    assert admin.get("/workbench/figures/export/everything?year=2026").status_code == 404
    assert admin.get("/workbench/figures?year=1850").status_code == 400


def test_only_the_provincial_admin_reads_the_figures(staff_client, institution_id):
    assert staff_client("registrar", institution_id).get("/workbench/figures").status_code == 403
    assert staff_client("reviewer").get("/workbench/figures").status_code == 403
    assert staff_client("registrar", institution_id).get(
        "/workbench/figures/export/deaths-county?year=2026").status_code == 403
    assert "本省殡葬数据" in staff_client("provincial-admin").get("/workbench/").text
