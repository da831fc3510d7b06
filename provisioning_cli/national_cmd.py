"""`fsp national`: the ministry's national database: loading the yearbook table behind registration completeness."""
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from provisioning_cli.common import boundary, open_target
from provisioning_cli.options import DEFAULT_HOME, CatalogOpt, HomeOpt, JsonOpt
from provisioning_cli.output import fail, print_json, print_table
from registry.journal import Journal
from registry.national import yearbook
from tenants.yearbook import YearbookError, YearbookFigure, read_yearbook

app = typer.Typer(no_args_is_help=True, help="The ministry's national database.")

ACTOR = "fsp-yearbook"  # the audit trail's actor for figures loaded here
OUTCOMES = ("created", "updated", "unchanged")


@app.command("load-yearbook")
def load_yearbook(
    file: Annotated[Path | None, typer.Argument(
        metavar="[FILE]", show_default=False,
        help="CSV: province_code,year,population_10k,death_rate_permille,source (the yearbook's table of population "
             "and death rates by region; source names the edition and table). Default: the catalog's table.")] = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Load population and crude death rate per province and year into the ministry's database, and each
    provisioned province's rows into its own: expected deaths for registration completeness and the backfill KPI.
    The whole table is checked first (every problem listed, nothing loaded); loading the same table again changes
    nothing; each change is audited."""
    local = open_target(home, catalog)
    if file is None:
        figures, source = local.catalog.yearbook, "catalog"
    else:
        try:
            figures, source = read_yearbook(file), str(file)
        except YearbookError as err:
            for problem in err.problems:
                typer.echo(f"{file}: {problem}", err=True)
            fail(f"invalid yearbook table {file}: {len(err.problems)} problem(s); nothing loaded")
    if not figures:
        fail(f"the {source} table holds no figure")
    expected = [_expected(local.catalog.resolve(f.province_code).slug, f) for f in figures]
    with boundary():
        rows = _load_into(local, local.catalog.ministry, expected)
        # each provisioned province's own figures divide by its own rows (registry.national.own_figures)
        provinces = {spec.slug: len(_load_into(local, spec, [f for f in expected if f.province_slug == spec.slug]))
                     for spec in local.catalog.provinces if local.is_provisioned(spec)
                     and any(f.province_slug == spec.slug for f in expected)}
    counts = {outcome: sum(row["outcome"] == outcome for row in rows) for outcome in OUTCOMES}
    if json_:
        print_json({"source": source, **counts, "rows": rows, "provinces": provinces})
        return
    print_table(["province", "year", "expected deaths", "outcome"],
                ([row["province"], row["year"], f"{row['expected_deaths']:,}", row["outcome"]] for row in rows),
                title=f"expected deaths from {source}")
    typer.echo(", ".join(f"{count} {outcome}" for outcome, count in counts.items()))
    if provinces:
        typer.echo("also in each province's own figures: " + ", ".join(f"{slug} ({n})" for slug, n in provinces.items()))


def _load_into(local, spec, expected: list[yearbook.ExpectedFigure]) -> list[dict]:
    """The figures loaded into one tenant's database, audited there."""
    settings = local.settings(spec)
    with local.engine(spec) as engine, Session(engine) as session:
        journal = Journal.of(engine, keys_dir=settings.keys_dir, checkpoint_file=settings.audit_checkpoint_path)
        return yearbook.load(session, journal, expected, actor=ACTOR)


def _expected(slug: str, figure: YearbookFigure) -> yearbook.ExpectedFigure:
    return yearbook.ExpectedFigure(province_slug=slug, province_code=figure.province_code, year=figure.year,
                                   population=figure.population, death_rate_permille=figure.death_rate_permille,
                                   expected_deaths=figure.expected_deaths, source=figure.source)
