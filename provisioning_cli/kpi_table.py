"""The plan's KPIs per province as `fsp fleet status` shows them: read from the ministry's national database."""
from datetime import datetime

from rich.console import Console
from rich.table import Table
from sqlmodel import Session

from provisioning_cli.targets.local import LocalTarget
from registry.national import kpis
from registry.national.kpis import Kpi, Status

HEADINGS = {Kpi.online_institutions: "institutions online", Kpi.online_services: "serving citizens online",
            Kpi.backfill: "backfill since 2010",
            Kpi.exchange_freshness: "exchange freshness"}
# the status in words and a mark: never colour alone
MARKS = {Status.passed.value: "✓ pass", Status.behind.value: "✗ BEHIND", Status.unknown.value: "? unknown"}


def ministry_kpis(local: LocalTarget, *, year: int, now: datetime) -> list[dict] | None:
    """Every province's KPI rows, or None when the ministry is not provisioned here."""
    ministry = local.catalog.ministry
    if not local.is_provisioned(ministry):
        return None
    with local.engine(ministry) as engine, Session(engine) as session:
        return [row.as_dict() for row in kpis.kpis(session, year=year, now=now)]


def shown(row: dict) -> str:
    """`50.0% (1/2) ✗ BEHIND`, `3h 5m ✓ pass`, `no expected figure ? unknown`."""
    if row["value"] is None:
        figure = {Kpi.online_institutions.value: "no active institution",
                  Kpi.online_services.value: "no active institution", Kpi.backfill.value: "no expected figure",
                  Kpi.exchange_freshness.value: "never shipped"}[row["kpi"]]
    elif row["kpi"] == Kpi.exchange_freshness.value:
        figure = duration(row["value"])
    else:
        figure = f"{row['value']:.1%} ({row['numerator']:,}/{row['denominator']:,})"
    return f"{figure} {MARKS[row['status']]}"


def duration(seconds: float) -> str:
    hours, minutes = divmod(round(seconds) // 60, 60)
    return f"{hours // 24}d {hours % 24}h" if hours >= 48 else f"{hours}h {minutes}m"


def target(kpi: Kpi) -> str:
    return {Kpi.online_institutions: f"≥ {kpis.ONLINE_TARGET:.0%}",
            Kpi.online_services: f"≥ {kpis.ONLINE_NEXT_TARGET:.0%}", Kpi.backfill: f"≥ {kpis.BACKFILL_TARGET:.0%}",
            Kpi.exchange_freshness: f"≤ {kpis.FRESHNESS_TARGET_SECONDS // 3600}h"}[kpi]


def print_kpis(rows: list[dict], *, year: int) -> None:
    """One line per province, one column per KPI with its target in the heading."""
    table = Table("province", *(f"{HEADINGS[kpi]} ({target(kpi)})" for kpi in Kpi),
                  title=f"plan KPIs {year} (next stage for institutions online: ≥ {kpis.ONLINE_NEXT_TARGET:.0%})")
    by_province: dict[str, dict[str, dict]] = {}
    for row in rows:
        by_province.setdefault(row["province"], {})[row["kpi"]] = row
    for province, found in by_province.items():
        table.add_row(province, *(shown(found[kpi.value]) for kpi in Kpi))
    Console(markup=False, highlight=False).print(table)
