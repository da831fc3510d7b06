"""`fsp baseline check TENANT`: the provisioned tenant judged against GB/T 22239-2019 grade 3 and GB/T 39786-2021,
control by control, with evidence; exit 1 when a mandatory control fails."""
from pathlib import Path
from typing import Annotated

import typer

from infra.ensure.realm import connect
from provisioning_cli.baseline.report import STATUS_LABELS, render_html
from provisioning_cli.baseline.runner import record, report, run_checks
from provisioning_cli.baseline.subject import Subject
from provisioning_cli.common import boundary, open_target
from provisioning_cli.keycloak_admin import admin_credentials, keycloak_url
from provisioning_cli.options import DEFAULT_HOME, AdminUserOpt, CatalogOpt, HomeOpt, JsonOpt, KeycloakUrlOpt, TenantArg
from provisioning_cli.output import fail, print_json, print_table, resolve_tenant

app = typer.Typer(no_args_is_help=True, help="Security baseline (等级保护 grade 3, 密评) of a provisioned tenant.")


@app.command("check")
def check(
    tenant: TenantArg,
    json_: JsonOpt = False,
    html: Annotated[Path | None, typer.Option("--html", metavar="FILE", help="Write the assessors' report (Chinese, "
                                                                              "printable HTML) to FILE.")] = None,
    url: KeycloakUrlOpt = None,
    admin_user: AdminUserOpt = None,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Run every check against the tenant as it is; record the result where its state lives (its /metrics
    exports it); exit 1 when a mandatory control fails."""
    local = open_target(home, catalog)
    spec = resolve_tenant(local.catalog, tenant)
    if not local.is_provisioned(spec):
        fail(f"{spec.slug} is not provisioned here: run `fsp up {spec.slug}` first")
    realm = None
    if spec.sso.provider == "keycloak":
        server, (user, password) = keycloak_url(spec, url), admin_credentials(admin_user)

        def realm():  # signed in when a realm check first asks
            return connect(server, user, password, spec.realm_name)
    subject = Subject(spec=spec, local=local, connect_realm=realm)
    with boundary():
        results = run_checks(subject)
        data = report(subject, results)
        record(subject, data)
        if html is not None:
            html.write_text(render_html(data), encoding="utf-8")
    if json_:
        print_json(data)
    else:
        rows = ([r.control.id, r.control.clause, r.control.title, STATUS_LABELS[r.status.value],
                 "; ".join(f"{f.check}: {f.evidence}" for f in r.findings if f.status == r.status)[:160]]
                for r in results)
        print_table(["control", "clause", "title", "status", "evidence"], rows,
                    title=f"{spec.slug} baseline · " + ", ".join(f"{n} {s}" for s, n in data["counts"].items()))
    if data["failed_mandatory"]:
        fail(f"mandatory controls failed: {', '.join(data['failed_mandatory'])}")
