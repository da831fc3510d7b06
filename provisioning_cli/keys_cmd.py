"""`fsp keys`: rotate a tenant's field, signing or token key without downtime, move old rows, retire old keys."""
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from provisioning_cli.common import boundary, open_target
from provisioning_cli.key_rotation import KINDS, TenantKeyPlace, describe, retire, rotate, run_reencryption
from provisioning_cli.options import DEFAULT_HOME, CatalogOpt, HomeOpt, JsonOpt, TenantArg
from provisioning_cli.output import fail, print_json, resolve_tenant
from provisioning_cli.targets.local import LocalTarget
from tenants import TenantSpec

app = typer.Typer(no_args_is_help=True, help="A tenant's keys: rotate, re-encrypt, retire, list (ids only).")

FieldOpt = Annotated[bool, typer.Option("--field", help="The field key (SM4, personal data at rest).")]
SigningOpt = Annotated[bool, typer.Option("--signing", help="The signing key of exchange batches and department "
                                                            "notices (a new key is SM2).")]
TokenOpt = Annotated[bool, typer.Option("--token", help="The development token issuer's key.")]
BatchOpt = Annotated[int, typer.Option("--batch", min=1, max=10000, help="Rows re-encrypted per transaction.")]


@contextmanager
def _place(local: LocalTarget, spec: TenantSpec) -> Iterator[TenantKeyPlace]:
    settings = local.settings(spec)
    peers = local.home.tenant(local.catalog.ministry.slug).peers
    registration = peers / f"{spec.slug}.pem"
    with local.engine(spec) as engine, local.home.lock():
        yield TenantKeyPlace(settings, engine, registration if registration.exists() else None)


def _kind(field: bool, signing: bool, token: bool) -> str:
    chosen = [kind for kind, given in zip(KINDS, (field, signing, token), strict=True) if given]
    if len(chosen) != 1:
        fail("give exactly one of --field, --signing, --token")
    return chosen[0]


def _report(result: dict[str, Any], json_: bool) -> None:
    if json_:
        print_json(result)
    else:
        for name, value in result.items():
            typer.echo(f"{name}: {value}")


@app.command("rotate")
def rotate_cmd(tenant: TenantArg, field: FieldOpt = False, signing: SigningOpt = False, token: TokenOpt = False,
               reencrypt: Annotated[bool, typer.Option("--reencrypt", help="With --field: move every encrypted value "
                                                                            "to the new version now.")] = False,
               batch: BatchOpt = 200, json_: JsonOpt = False, home: HomeOpt = DEFAULT_HOME,
               catalog: CatalogOpt = None) -> None:
    """Add a new key of one kind; the old stays accepted (readable, verifiable) until `fsp keys retire`. Audited."""
    kind = _kind(field, signing, token)
    if reencrypt and kind != "field":
        fail("--reencrypt goes with --field")
    local = open_target(home, catalog)
    spec = resolve_tenant(local.catalog, tenant)
    with boundary(), _place(local, spec) as place:
        result = {"tenant": spec.slug, **rotate(place, kind)}
        if reencrypt:
            result["reencrypted"] = run_reencryption(place, batch=batch, progress=_progress(spec.slug))
    _report(result, json_)


@app.command("reencrypt")
def reencrypt_cmd(tenant: TenantArg, batch: BatchOpt = 200, json_: JsonOpt = False, home: HomeOpt = DEFAULT_HOME,
                  catalog: CatalogOpt = None) -> None:
    """Move every encrypted value to the newest field key version; safe to interrupt and run again. Audited."""
    local = open_target(home, catalog)
    spec = resolve_tenant(local.catalog, tenant)
    with boundary(), _place(local, spec) as place:
        result = {"tenant": spec.slug, **run_reencryption(place, batch=batch, progress=_progress(spec.slug))}
    _report(result, json_)


@app.command("retire")
def retire_cmd(tenant: TenantArg, field: Annotated[int | None, typer.Option(
                   "--field", metavar="VERSION", help="Retire this field key version (no value may still use it).")] = None,
               signing: SigningOpt = False, token: TokenOpt = False, json_: JsonOpt = False,
               home: HomeOpt = DEFAULT_HOME, catalog: CatalogOpt = None) -> None:
    """End an overlap: remove the old key once nothing depends on it (the ministry then accepts only the new)."""
    kind = _kind(field is not None, signing, token)
    local = open_target(home, catalog)
    spec = resolve_tenant(local.catalog, tenant)
    with boundary(), _place(local, spec) as place:
        result = {"tenant": spec.slug, **retire(place, kind, version=field)}
    _report(result, json_)


@app.command("list")
def list_cmd(tenant: TenantArg, json_: JsonOpt = False, home: HomeOpt = DEFAULT_HOME,
             catalog: CatalogOpt = None) -> None:
    """The tenant's rotatable keys: versions and ids (never the keys), values held per field key version."""
    local = open_target(home, catalog)
    spec = resolve_tenant(local.catalog, tenant)
    with boundary(), _place(local, spec) as place:
        result = {"tenant": spec.slug, **describe(place)}
    _report(result, json_)


def _progress(slug: str):
    def report(field: str, moved: int) -> None:
        typer.echo(f"{slug}: {field}: {moved} re-encrypted", err=True)
    return report
