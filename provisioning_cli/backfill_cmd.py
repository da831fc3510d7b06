"""`fsp backfill`: import a province's archived cases (历史数据补录) from a JSON Lines file, through its API."""
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from provisioning_cli.common import boundary, open_target
from provisioning_cli.options import DEFAULT_HOME, CatalogOpt, HomeOpt, JsonOpt, TenantArg
from provisioning_cli.output import fail, print_json, print_table, resolve_tenant
from registry.cases.models import MAX_IMPORT_RECORDS
from registry.security.auth import DevelopmentIssuer
from registry.security.keys import load_keys

SUBJECT = "fsp-backfill"  # the audit trail's actor for imports with a token minted here
COUNTS = ("created", "already_present", "refused", "unreadable")


def backfill(
    tenant: TenantArg,
    file: Annotated[Path, typer.Argument(metavar="FILE", show_default=False,
                                         help="JSON Lines: one archived case per line (the fields of a declaration "
                                              "plus archive_ref).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every record; write nothing.")] = False,
    batch: Annotated[int, typer.Option("--batch", min=1, max=MAX_IMPORT_RECORDS,
                                       help="Records per request (one transaction each).")] = 50,
    rejects: Annotated[Path | None, typer.Option(
        "--rejects", metavar="FILE", show_default=False,
        help="Write each refused or unreadable line here (JSON Lines: line, record, errors), to fix and re-run.")
    ] = None,
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
    """Import archived cases. Each record is answered on its own: created, already present (imported before, so a
    re-run changes nothing) or refused with its errors. Exits 1 when any record was refused or unreadable."""
    local = open_target(home, catalog)
    spec = resolve_tenant(local.catalog, tenant)
    if spec.kind == "ministry":
        fail("archived cases belong to a province; the ministry receives them through the exchange")
    with boundary():
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as err:
            fail(f"{file} is not UTF-8 text (byte {err.start}); convert it first, e.g. iconv -f GB18030 -t UTF-8")
        if token is None:
            if spec.sso.provider == "keycloak":
                fail(f"{spec.slug} signs in with Keycloak: pass a provincial administrator's token (--token or "
                     "FSP_TOKEN)")
            settings = local.settings(spec)
            issuer = DevelopmentIssuer(load_keys(settings.keys_dir).token_private_pem, issuer=settings.issuer,
                                       audience=settings.token_audience)
            token = issuer.mint(SUBJECT, ["provincial-admin"], ttl_seconds=3600)
    api = (url or local.endpoint(spec)).rstrip("/")
    records, unreadable = _read(lines)
    summary = {"tenant": spec.slug, "file": str(file), "dry_run": dry_run, **dict.fromkeys(COUNTS, 0),
               "unreadable": len(unreadable)}
    refused: list[dict[str, Any]] = list(unreadable)
    console = Console(stderr=True)
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client, \
            Progress(TextColumn(f"{spec.slug}: importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                     console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("records", total=len(records))
        for chunk in _chunks(records, batch):
            for result, (line, record) in _send(client, chunk, dry_run):
                summary[_counted(result["outcome"])] += 1
                if result["outcome"] == "refused":
                    refused.append({"line": line, "record": record, "errors": result["errors"]})
            progress.advance(task, len(chunk))
    refused.sort(key=lambda entry: entry["line"])
    if rejects is not None:
        with boundary():
            _write_private(rejects, "".join(json.dumps(entry, ensure_ascii=False) + "\n" for entry in refused))
    if json_:
        print_json({**summary, "refused_lines": [{"line": e["line"], "errors": e["errors"]} for e in refused]})
    else:
        print_table(["created" if not dry_run else "valid", "already present", "refused", "unreadable"],
                    [[summary["created"], summary["already_present"], summary["refused"], summary["unreadable"]]],
                    title=f"{spec.slug}: {file.name}{' (dry run: nothing written)' if dry_run else ''}")
        for entry in refused[:20]:
            problems = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in entry["errors"])
            typer.echo(f"line {entry['line']}: {problems}", err=True)
        if len(refused) > 20:
            typer.echo(f"... and {len(refused) - 20} more" + (f" (all in {rejects})" if rejects else
                                                               " (--rejects FILE lists them all)"), err=True)
    if refused:
        raise typer.Exit(code=1)


def _write_private(path: Path, text: str) -> None:
    # the rejected records hold personal data as the input file does: readable by their owner only
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(path, 0o600)


def _read(lines: list[str]) -> tuple[list[tuple[int, dict]], list[dict[str, Any]]]:
    """(line number, record) of every JSON object; the lines that are not one, with why."""
    records, unreadable = [], []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except ValueError as err:
            unreadable.append({"line": number, "record": text, "errors": [
                {"field": "line", "rule": "json", "message": f"not JSON: {err.msg}"}]})
            continue
        if not isinstance(record, dict):
            unreadable.append({"line": number, "record": text, "errors": [
                {"field": "line", "rule": "json_object", "message": "not a JSON object"}]})
            continue
        records.append((number, record))
    return records, unreadable


def _chunks(records: list, size: int) -> Iterator[list]:
    for start in range(0, len(records), size):
        yield records[start:start + size]


def _send(client: httpx.Client, chunk: list[tuple[int, dict]], dry_run: bool) -> list[tuple[dict, tuple[int, dict]]]:
    """Post one chunk; a chunk over the server's body limit is split in two and each half sent."""
    try:
        response = client.post("/cases/imports", json={"records": [record for _, record in chunk]},
                               params={"dry_run": "true"} if dry_run else None)
    except httpx.HTTPError as err:
        fail(f"cannot reach {client.base_url} ({type(err).__name__}: {err}); is `fsp serve` running? Records sent "
             "before were imported: re-running the same file skips them")
    if response.status_code == 413 and len(chunk) > 1:
        half = len(chunk) // 2
        return _send(client, chunk[:half], dry_run) + _send(client, chunk[half:], dry_run)
    if response.status_code != 200:
        fail(f"{client.base_url} refused the import ({response.status_code}): {_problem(response)}")
    return list(zip(response.json()["results"], chunk))


def _counted(outcome: str) -> str:
    return "created" if outcome == "valid" else outcome


def _problem(response: httpx.Response) -> str:
    try:
        errors = response.json()["errors"]
        return "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    except (ValueError, KeyError, TypeError):
        return response.text[:200]
