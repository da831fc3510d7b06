"""Where a tenant's backup can be restored on the local target: a new SQLite file or a new PostgreSQL database."""
from pathlib import Path

from sqlalchemy import make_url

from infra.ensure.database import database_exists, drop_restore_database, tenant_database_url
from provisioning_cli.restore import Place
from provisioning_cli.targets import TargetError
from provisioning_cli.targets.local import LocalTarget
from provisioning_cli.targets.local_state import read_json, read_secret
from tenants import TenantSpec


def backend_of(local: LocalTarget, spec: TenantSpec) -> str:
    return (read_json(local.home.tenant(spec.slug).state) or {}).get("database", {}).get("backend", "sqlite")


def place_named(local: LocalTarget, spec: TenantSpec, name: str, *, replace_leftover: bool = False) -> Place:
    """A place `name` beside the tenant's database: a file path on SQLite, a database name on PostgreSQL.
    An existing one is refused, unless it is a leftover of an earlier restore (`replace_leftover`)."""
    if backend_of(local, spec) == "sqlite":
        path = Path(name).resolve()
        if path.exists():
            if not replace_leftover:
                raise TargetError(f"{path} already exists: restore into a new file")
            Place(url="", sqlite_path=path).drop()
        if not path.parent.is_dir():
            raise TargetError(f"no directory {path.parent} to restore into")
        return Place(url=f"sqlite:///{path}", sqlite_path=path)
    paths = local.home.tenant(spec.slug)
    admin_url, tenant_url = read_secret(paths.admin_url_secret), read_secret(paths.database_url_secret)
    if admin_url is None or tenant_url is None:
        raise TargetError(f"{spec.slug}'s PostgreSQL server DSN is gone: run `fsp up {spec.slug} --postgres DSN` first")
    if database_exists(admin_url, name):
        if not replace_leftover:
            raise TargetError(f"database {name} already exists: restore into a new one")
        drop_restore_database(admin_url, name)
    tenant = make_url(tenant_url)
    url = tenant_database_url(admin_url, database=name, role=tenant.username, password=tenant.password)
    return Place(url=url, admin_url=admin_url, database=name, role=tenant.username)


def live_database(local: LocalTarget, spec: TenantSpec) -> tuple[str, bool]:
    """The tenant's own database (file path or database name), and whether it exists now."""
    paths = local.home.tenant(spec.slug)
    if backend_of(local, spec) == "sqlite":
        return str(paths.sqlite), paths.sqlite.is_file()
    name = (read_json(paths.state) or {})["database"]["name"]
    admin_url = read_secret(paths.admin_url_secret)
    return name, admin_url is not None and database_exists(admin_url, name)
