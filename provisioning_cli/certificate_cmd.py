"""`fsp certificate verify`: check the QR code of a cremation certificate or a transport permit offline, with only the
issuing tenant's public key (a receiving province checks another province's permit this way)."""
import json
from pathlib import Path
from typing import Annotated

import typer

from provisioning_cli.common import boundary, open_target
from provisioning_cli.options import DEFAULT_HOME, CatalogOpt, HomeOpt, JsonOpt
from provisioning_cli.output import fail, print_json, resolve_tenant
from registry import signed_documents
from registry.security.keys import load_certificate_key

app = typer.Typer(no_args_is_help=True, help="Cremation certificates (火化证明) and transport permits (遗体跨省运输证明).")


def _public_key(path: Path) -> tuple[str, str | None]:
    """(public key hex, tenant code or None) from the JSON of /.well-known/fsp-certificate-key or a plain hex file."""
    try:
        text = path.read_text().strip()
    except OSError as err:
        fail(f"cannot read the public key {path}: {err.strerror}")
    if text.startswith("{"):
        try:
            published = json.loads(text)
            return str(published["public_key"]), published.get("tenant_code")
        except (ValueError, KeyError, TypeError):
            fail(f"{path} is not the JSON of /.well-known/fsp-certificate-key (no public_key)")
    return text, None


@app.command("verify")
def verify(
    qr_text: Annotated[str, typer.Argument(metavar="QR_TEXT_OR_URL",
                                           help="What the QR code holds: the verification URL, or FSPC1|...|signature "
                                           "(a certificate) or FSPP1|...|signature (a transport permit).")],
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", metavar="FILE", help="The tenant's public key: the JSON of its "
        "/.well-known/fsp-certificate-key, or the hex of certificate-sm2.pub.")] = None,
    tenant: Annotated[str | None, typer.Option(
        "--tenant", metavar="SLUG", help="Read the public key from this local tenant's keys instead.")] = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Check the SM2 signature of a certificate's or a permit's QR code, offline (no network); exit 1 when it fails.

    A valid signature says the tenant issued a certificate with these fields; whether it is still valid (not
    cancelled or reissued) only the tenant's portal can say."""
    if (public_key is None) == (tenant is None):
        fail("give exactly one of --public-key FILE or --tenant SLUG")
    if public_key is not None:
        public_hex, tenant_code = _public_key(public_key)
    else:
        local = open_target(home, catalog)
        spec = resolve_tenant(local.catalog, tenant)
        with boundary():
            public_hex, tenant_code = load_certificate_key(local.settings(spec).keys_dir).public_hex, spec.code
    try:
        claim = signed_documents.parse(qr_text)
    except signed_documents.UnreadableQr as err:
        fail(f"not a certificate QR code: {err}")
    reasons = []
    if tenant_code is not None and claim.tenant_code != tenant_code:
        reasons.append(f"issued for tenant {claim.tenant_code}, the key is tenant {tenant_code}'s")
    if not claim.signed_by(public_hex):
        reasons.append("the signature is not this key's over these fields")
    report = {"signature_valid": not reasons, "kind": claim.kind.name, "tenant_code": claim.tenant_code,
              "number": claim.number, "check_code": claim.check_code, "issued_on": claim.issued_on.isoformat(),
              "key_id": claim.key_id, **claim.extra, "problems": reasons}
    if json_:
        print_json(report)
    else:
        verdict = "签名有效 (signature valid)" if not reasons else "签名无效 (signature INVALID: " + "; ".join(reasons) + ")"
        typer.echo(f"{verdict}\n证明编号 {claim.number}  签发日期 {claim.issued_on.isoformat()}  "
                   f"查验码 {claim.check_code}  密钥 {claim.key_id}")
        if claim.extra:  # a permit: what the receiving province checks on arrival
            typer.echo(f"目的地 {claim.extra['to_region']}  运输日期 {claim.extra['planned_on']}  "
                       f"车牌号 {claim.extra['vehicle_plate']}")
    if reasons:
        raise typer.Exit(code=1)
