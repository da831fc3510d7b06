"""`fsp backup TENANT` and `fsp backup drill TENANT` (see provisioning_cli.backup_take and provisioning_cli.drill)."""
from typing import Annotated

import typer

from provisioning_cli.backup_archive import backup_key
from provisioning_cli.backup_take import backup_directory, take_backup
from provisioning_cli.common import boundary, open_target
from provisioning_cli.options import DEFAULT_HOME, BackupKeyOpt, CatalogOpt, HomeOpt, JsonOpt
from provisioning_cli.output import fail, print_json, print_table, resolve_tenant


def backup(
    what: Annotated[str, typer.Argument(metavar="TENANT | drill TENANT",
                                        help="Tenant slug or code to back up; `drill TENANT` tests its newest backup.")],
    tenant: Annotated[str | None, typer.Argument(metavar="", show_default=False, hidden=True)] = None,
    backup_key_file: BackupKeyOpt = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Back up a tenant's database and keys, sealed under the backup key, into
    $FSP_HOME/tenants/<slug>/backups/ (mode 0600); or `drill` its newest backup."""
    if what == "drill":
        from provisioning_cli.drill import drill  # the restore machinery only when drilling

        if tenant is None:
            fail("name the tenant to drill: `fsp backup drill TENANT`")
        drill(tenant, backup_key_file, json_, home, catalog)
        return
    if tenant is not None:
        fail(f"unexpected argument {tenant!r}: `fsp backup TENANT` or `fsp backup drill TENANT`")
    local = open_target(home, catalog)
    spec = resolve_tenant(local.catalog, what)
    with boundary():
        settings = local.settings(spec)
        directory = backup_directory(local, spec)
        taken = take_backup(settings, directory, key=backup_key(backup_key_file, backup_dir=directory))
    if json_:
        print_json(taken)
    else:
        print_table(["tenant", "backend", "outcome", "file", "bytes"],
                    [[taken["tenant"], taken["backend"], taken["outcome"], taken["file"], taken["bytes"]]])
