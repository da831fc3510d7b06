"""The provisioned tenant a baseline check inspects: its settings as written, its database, keys, backups, realm
and the stack its Kubernetes deployment would declare, each opened once and only when a check asks."""
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydantic import ValidationError

from provisioning_cli.targets.local import LocalTarget
from provisioning_cli.targets.local_state import TenantPaths, read_json, read_secret
from registry.config import Settings
from tenants import TenantSpec


@dataclass
class Subject:
    spec: TenantSpec
    local: LocalTarget
    # a Keycloak admin client on the tenant's realm, made when a realm check first asks (None: no realm)
    connect_realm: Callable[[], Any] | None = None
    # what a check computed that another reads too (the audit verdict)
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def paths(self) -> TenantPaths:
        return self.local.home.tenant(self.spec.slug)

    @cached_property
    def written_settings(self) -> dict[str, Any]:
        """tenant.json as it is on disk (what `fsp serve` will run with), without the database password."""
        return read_json(self.paths.settings) or {}

    @property
    def environment(self) -> str:
        return str(self.written_settings.get("environment", "development"))

    @property
    def development(self) -> bool:
        return self.environment == "development"

    @cached_property
    def settings(self) -> Settings:
        """The runtime settings; when they would be refused (a development issuer outside development), the same
        settings read as development, so that the other checks can still look at the tenant."""
        try:
            return self.local.settings(self.spec)
        except ValidationError:
            data = self.written_settings
            url = read_secret(self.paths.database_url_secret) or data["database_url"]
            return Settings(**{**data, "environment": "development", "database_url": url})

    @cached_property
    def realm(self) -> Any:
        """The realm's admin client, or None when the tenant signs in with the development issuer."""
        return self.connect_realm() if self.connect_realm is not None else None

    @cached_property
    def app(self):
        """The registry app built from the tenant's settings, as `fsp serve` builds it (requests go in-process)."""
        from registry.app import create_app

        return create_app(self.settings)

    @cached_property
    def plan(self) -> dict:
        """What the tenant's Kubernetes stack declares, with the policy pack's verdicts (offline, secrets masked)."""
        from provisioning_cli.targets.kubernetes import KubernetesTarget

        return KubernetesTarget(self.local.home.root, self.local.catalog).plan(self.spec)

    def close(self) -> None:
        if "app" in self.__dict__:
            self.app.state.ctx.engine.dispose()
