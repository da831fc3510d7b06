"""`fsp national`: the ministry's national database: loading the yearbook table behind registration completeness,
and sample cases for a demonstration fleet."""
import dataclasses
import random
from pathlib import Path
from typing import Annotated

import httpx
import typer
from sqlmodel import Session

from provisioning_cli import demo_cases as demo
from provisioning_cli.common import boundary, open_target, provinces_taking_part
from provisioning_cli.options import DEFAULT_HOME, AllOpt, CatalogOpt, HomeOpt, JsonOpt, TenantsArg
from provisioning_cli.output import fail, print_json, print_table
from registry.journal import Journal
from registry.national import yearbook
from registry.security.auth import DevelopmentIssuer
from registry.security.keys import load_keys
from tenants import TenantSpec
from tenants.yearbook import YearbookError, YearbookFigure, read_yearbook

app = typer.Typer(no_args_is_help=True, help="The ministry's national database, and sample cases for a demonstration.")

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


@app.command("demo-cases")
def demo_cases(
    tenants: TenantsArg = None,
    all_: AllOpt = False,
    cases: Annotated[int, typer.Option("--cases", min=1, max=5000, help="Deaths to make in each province.")] = 60,
    seed: Annotated[int | None, typer.Option(
        "--seed", help="Makes the same people again (the registry then refuses them as duplicates); default: new "
                       "people each run.")] = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Sample deaths in provinces served by `fsp serve`, made through their API as staff would (development
    issuers only): declared, registered, every other one cremated with its certificate and the ashes' destination.
    `fsp serve` ships them to the ministry within its --ship-interval (or run `fsp exchange ship --all`): then the
    ministry's portal figures, its statistics exports and `fsp fleet status` show them."""
    local = open_target(home, catalog)
    specs = provinces_taking_part(local, tenants, all_, verb="fill with sample cases", refusal=_cannot_demo,
                                  none_left="no provisioned province signs in with a development issuer")
    seed = seed if seed is not None else random.SystemRandom().randrange(10**9)
    rows = []
    with boundary(), httpx.Client(timeout=30) as client:
        for spec in specs:
            settings = local.settings(spec)
            issuer = DevelopmentIssuer(load_keys(settings.keys_dir).token_private_pem, issuer=settings.issuer,
                                       audience=settings.token_audience)
            api = demo.Province(client, local.endpoint(spec), demo.token_minter(issuer))
            try:
                made = demo.make_cases(api, province=spec.slug, code=spec.code, cases=cases, seed=seed)
            except httpx.HTTPError as err:
                fail(f"{spec.slug}: `fsp serve` does not answer at {local.base_url()} ({type(err).__name__}): "
                     "start it first")
            except demo.DemoError as err:
                fail(f"{spec.slug}: {err}")
            rows.append({**dataclasses.asdict(made), "seed": seed})
    if json_:
        print_json(rows)
        return
    print_table(["province", "declared", "duplicates", "cremated", "certificates", "ashes destinations"],
                ([r["province"], r["declared"], r["duplicates"], r["cremated"], r["certificates"], r["destinations"]]
                 for r in rows), title=f"sample cases (seed {seed})")
    typer.echo("shipped to the ministry by `fsp serve` within its --ship-interval, or now: fsp exchange ship --all")


def _cannot_demo(spec: TenantSpec) -> str | None:
    if spec.kind != "province":
        return f"{spec.slug} is the ministry: its figures come from the provinces', name provinces"
    if spec.sso.provider == "keycloak":
        return f"{spec.slug} signs in with Keycloak: sample cases need a development issuer's tokens"
    return None
