"""`fsp backfill`: import a province's archived cases (历史数据补录) from the files it has, at database speed.

The file (CSV, XLSX or JSON Lines, read as a stream through `backfill_sources`) is sent to the province's
registry in batches (`POST /cases/imports/bulk`, the provincial admin's token), which checks each record like a
declaration and writes a batch set-wise in one transaction. Every refused row goes to the report (CSV: line,
archive number, field, rule, message in Chinese) as soon as its batch is answered, so a killed run leaves the
rejects of what it did; running the same file again imports the rest (the records already there are counted as
already present, never written twice).
"""
import csv
import os
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.text import Text

from provisioning_cli import backfill_sources as sources
from provisioning_cli.common import boundary, open_target
from provisioning_cli.options import DEFAULT_HOME, CatalogOpt, HomeOpt, JsonOpt, TenantArg
from provisioning_cli.output import fail, print_json, print_table, resolve_tenant
from registry.cases.models import MAX_BULK_RECORDS
from registry.security.auth import DevelopmentIssuer
from registry.security.keys import load_keys

SUBJECT = "fsp-backfill"  # the audit trail's actor for imports with a token minted here
COUNTS = ("created", "already_present", "refused", "unreadable")
REPORT_COLUMNS = ("line", "archive_ref", "field", "rule", "message")
BULK = "/cases/imports/bulk"
IN_FLIGHT = 2  # batches sent and not yet answered: the registry checks one while it writes the other


def backfill(
    tenant: TenantArg,
    file: Annotated[Path, typer.Argument(metavar="FILE", show_default=False,
                                         help="CSV (UTF-8 or GB18030), XLSX (first sheet) or JSON Lines: one "
                                              "archived case per row, a header row naming the columns.")],
    mapping: Annotated[Path | None, typer.Option(
        "--mapping", metavar="FILE", show_default=False,
        help="Column mapping (YAML or TOML): columns, constants, values (see the README).")] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", metavar="FILE", show_default=False,
        help="The row-level report of refused rows (CSV; default FILE.report.csv).")] = None,
    encoding: Annotated[str, typer.Option("--encoding", help=f"CSV and JSON Lines text: {', '.join(sources.ENCODINGS)}"
                                          " (auto: UTF-8, else GB18030).")] = "auto",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row; write nothing.")] = False,
    batch: Annotated[int, typer.Option("--batch", min=1, max=MAX_BULK_RECORDS,
                                       help="Records per request (one transaction each).")] = 1000,
    url: Annotated[str | None, typer.Option(
        "--url", metavar="URL", show_default=False,
        help="The tenant's API root (default: where `fsp serve` answers, /<tenant>/api/v1).")] = None,
    token: Annotated[str | None, typer.Option(
        "--token", envvar="FSP_TOKEN", show_envvar=True, show_default=False,
        help="A provincial administrator's bearer token (default: minted here for development-issuer tenants).")
    ] = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Import archived cases. Each row is created, already present (imported before: a re-run or a resumed run
    changes nothing) or refused, with its line, field, rule and message in the report. Exits 1 when any row was
    refused or unreadable."""
    local = open_target(home, catalog)
    spec = resolve_tenant(local.catalog, tenant)
    if spec.kind == "ministry":
        fail("archived cases belong to a province; the ministry receives them through the exchange")
    if encoding not in sources.ENCODINGS:
        fail(f"--encoding is one of {', '.join(sources.ENCODINGS)}")
    with boundary():
        if not file.is_file():
            fail(f"No such file: {file}")
        try:
            kind, rules, total = sources.format_of(file), sources.Mapping.load(mapping), sources.total_rows(file)
        except sources.SourceError as err:
            fail(str(err))
        if token is None:
            if spec.sso.provider == "keycloak":
                fail(f"{spec.slug} signs in with Keycloak: pass a provincial administrator's token (--token or "
                     "FSP_TOKEN)")
            settings = local.settings(spec)
            issuer = DevelopmentIssuer(load_keys(settings.keys_dir).token_private_pem, issuer=settings.issuer,
                                       audience=settings.token_audience)
            token = issuer.mint(SUBJECT, ["provincial-admin"], ttl_seconds=6 * 3600)
    api = (url or local.endpoint(spec)).rstrip("/")
    report = report or file.with_name(file.name + ".report.csv")
    summary: dict[str, Any] = {"tenant": spec.slug, "file": str(file), "format": kind, "dry_run": dry_run,
                               **dict.fromkeys(COUNTS, 0), "report": str(report)}
    started = time.monotonic()
    console = Console(stderr=True)
    with boundary(), _private(report) as out, \
            httpx.Client(base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=300) as client, \
            Progress(TextColumn(f"{spec.slug}: {'checking' if dry_run else 'importing'}"), BarColumn(),
                     MofNCompleteColumn(), _Rate(), TimeRemainingColumn(), console=console, transient=True,
                     disable=not console.is_terminal) as progress:
        csv.writer(out).writerow(REPORT_COLUMNS)
        task = progress.add_task("rows", total=total)
        answered = _Answered(summary, csv.writer(out), out, lambda rows: progress.advance(task, rows))
        # IN_FLIGHT batches at the registry while the next is read: reading, checking and writing overlap; the
        # answers are taken in file order, so the report and a resumed run see the batches in order
        with ThreadPoolExecutor(max_workers=IN_FLIGHT) as sender:
            in_flight: deque = deque()
            try:
                for chunk, unreadable in _batches(sources.rows(file, rules, encoding=encoding), batch):
                    if len(in_flight) == IN_FLIGHT:
                        answered(*in_flight.popleft())
                    in_flight.append((chunk, unreadable, sender.submit(_send, client, chunk, dry_run) if chunk
                                      else None))
            except sources.SourceError as err:
                while in_flight:
                    answered(*in_flight.popleft())
                fail(f"{err}. Rows before it were imported; the report lists their rejects")
            while in_flight:
                answered(*in_flight.popleft())
    seconds = time.monotonic() - started
    rows = sum(summary[name] for name in COUNTS)
    summary.update(seconds=round(seconds, 2), rows_per_second=round(rows / seconds) if seconds else None)
    if json_:
        print_json(summary)
    else:
        print_table(["created" if not dry_run else "valid", "already present", "refused", "unreadable", "rows/s"],
                    [[summary["created"], summary["already_present"], summary["refused"], summary["unreadable"],
                      summary["rows_per_second"]]],
                    title=f"{spec.slug}: {file.name}{' (dry run: nothing written)' if dry_run else ''}")
        if summary["refused"] or summary["unreadable"]:
            typer.echo(f"refused rows, with line, field, rule and message: {report}", err=True)
    if summary["refused"] or summary["unreadable"]:
        raise typer.Exit(code=1)


class _Answered:
    """A batch's answer taken in: counted, its refused rows (and the unreadable ones) written to the report."""

    def __init__(self, summary: dict, writer, out: IO[str], advance):
        self.summary, self.writer, self.out, self.advance = summary, writer, out, advance

    def __call__(self, chunk: list[tuple[int, dict]], unreadable: list[sources.Row], sent: Future | None) -> None:
        refused = [(row.line, None, row.errors) for row in unreadable]
        self.summary["unreadable"] += len(unreadable)
        if sent is not None:
            answer = sent.result()
            for counted in ("created", "already_present", "refused"):
                self.summary[counted] += answer[counted]
            refused += [(chunk[r["index"]][0], r["archive_ref"], r["errors"]) for r in answer["rejects"]]
        for line, archive_ref, errors in sorted(refused, key=lambda entry: entry[0]):
            self.writer.writerows([line, archive_ref or "", e.get("field"), e.get("rule"), e.get("message")]
                                  for e in errors)
        self.out.flush()  # a killed run still leaves the rejects of every batch answered
        self.advance(len(chunk) + len(unreadable))


class _Rate(ProgressColumn):
    """Rows per second over the last seconds."""

    def render(self, task) -> Text:
        return Text(f"{task.speed or 0:,.0f} rows/s")


class _private:
    """The report, created readable by its owner only: it names rows of a file full of personal data."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> IO[str]:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.chmod(self.path, 0o600)
        self.out = os.fdopen(fd, "w", encoding="utf-8-sig", newline="")  # with a BOM: spreadsheets open it right
        return self.out

    def __exit__(self, *exc) -> None:
        self.out.close()


def _batches(rows: Iterator[sources.Row], size: int) -> Iterator[tuple[list[tuple[int, dict]], list[sources.Row]]]:
    """Up to `size` readable rows (line, record) at a time, with the unreadable ones met on the way."""
    chunk: list[tuple[int, dict]] = []
    unreadable: list[sources.Row] = []
    for row in rows:
        if row.record is None:
            unreadable.append(row)
        else:
            chunk.append((row.line, row.record))
        if len(chunk) >= size or len(unreadable) >= size:
            yield chunk, unreadable
            chunk, unreadable = [], []
    if chunk or unreadable:
        yield chunk, unreadable


def _send(client: httpx.Client, chunk: list[tuple[int, dict]], dry_run: bool) -> dict:
    """Post one batch; a batch over the server's body limit is split in two and each half sent."""
    try:
        response = client.post(BULK, json={"records": [record for _, record in chunk]},
                               params={"dry_run": "true"} if dry_run else None)
    except httpx.HTTPError as err:
        fail(f"cannot reach {client.base_url} ({type(err).__name__}: {err}); is `fsp serve` running? Batches sent "
             "before were imported: re-running the same file skips them")
    if response.status_code == 413 and len(chunk) > 1:
        half = len(chunk) // 2
        first, second = _send(client, chunk[:half], dry_run), _send(client, chunk[half:], dry_run)
        return {**{name: first[name] + second[name] for name in ("created", "already_present", "refused")},
                "rejects": first["rejects"] + [{**r, "index": r["index"] + half} for r in second["rejects"]]}
    if response.status_code != 200:
        fail(f"{client.base_url} refused the import ({response.status_code}): {_problem(response)}")
    return response.json()


def _problem(response: httpx.Response) -> str:
    try:
        errors = response.json()["errors"]
        return "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    except (ValueError, KeyError, TypeError):
        return response.text[:200]
