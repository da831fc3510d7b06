"""A tenant's PostgreSQL database and login role on an existing server, as a Pulumi dynamic resource."""
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult

from infra.providers import changed, reveal, secret

NAME = r"^[a-z_][a-z0-9_]{0,62}$"
# a new server, database or role is another resource; a new password is an update of the same one
REPLACING = ("server", "database", "role")


def _outs(props: dict[str, Any]) -> dict[str, Any]:
    from infra.ensure.database import password_fingerprint, url_without_password

    admin_url, role = reveal(props["admin_url"]), props["role"]
    return {
        "server": url_without_password(admin_url),
        "database": props["database"],
        "role": role,
        "password_fingerprint": password_fingerprint(role, reveal(props["password"])),
        # delete gets only these outputs: the admin URL travels as a secret, encrypted in state
        "admin_url": secret(admin_url),
    }


class PostgresDatabaseProvider(ResourceProvider):
    """create/update = ensure_postgres_database (idempotent); delete = drop_postgres_database."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        import re

        from infra.ensure.database import url_without_password

        failures = [CheckFailure(key, f"must match {NAME}") for key in ("database", "role")
                    if not re.match(NAME, str(news.get(key, "")))]
        if not str(reveal(news.get("admin_url")) or "").startswith("postgresql"):
            failures.append(CheckFailure("admin_url", "must be a postgresql:// URL"))
        if not reveal(news.get("password")):
            failures.append(CheckFailure("password", "must not be empty"))
        inputs = dict(news)
        if not failures:
            inputs["server"] = url_without_password(reveal(news["admin_url"]))
        return CheckResult(inputs, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        from infra.ensure.database import ensure_postgres_database

        ensure_postgres_database(reveal(props["admin_url"]), database=props["database"], role=props["role"],
                                 password=reveal(props["password"]))
        return CreateResult(id_=props["database"], outs=_outs(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        from infra.ensure.database import password_fingerprint, url_without_password

        news = {**news, "server": url_without_password(reveal(news["admin_url"]))}
        replaces = changed(olds, news, REPLACING)
        fresh = password_fingerprint(news["role"], reveal(news["password"]))
        updates = [*replaces, *(["password"] if fresh != olds.get("password_fingerprint") else [])]
        if reveal(olds.get("admin_url")) != reveal(news["admin_url"]):
            updates.append("admin_url")
        return DiffResult(changes=bool(updates), replaces=replaces, delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        from infra.ensure.database import ensure_postgres_database

        ensure_postgres_database(reveal(news["admin_url"]), database=news["database"], role=news["role"],
                                 password=reveal(news["password"]), known_fingerprint=olds.get("password_fingerprint"))
        return UpdateResult(outs=_outs(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        from infra.ensure.database import drop_postgres_database

        drop_postgres_database(reveal(props["admin_url"]), database=props["database"], role=props["role"])


class PostgresDatabase(Resource, module="fsp", name="PostgresDatabase"):
    """Database `database` owned by login role `role` (password `password`) on the server at `admin_url`."""

    server: pulumi.Output[str]
    database: pulumi.Output[str]
    role: pulumi.Output[str]
    password_fingerprint: pulumi.Output[str]

    def __init__(self, name: str, *, admin_url: pulumi.Input[str], database: str, role: str,
                 password: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None) -> None:
        secrets = pulumi.ResourceOptions(additional_secret_outputs=["admin_url", "password"])
        super().__init__(PostgresDatabaseProvider(), name, {
            "admin_url": pulumi.Output.secret(admin_url), "password": pulumi.Output.secret(password),
            "database": database, "role": role, "server": None, "password_fingerprint": None,
        }, pulumi.ResourceOptions.merge(secrets, opts))
