"""What a stack is built from: the tenant's spec, the cluster, and the secrets the control plane holds."""
from dataclasses import dataclass, field

from sqlalchemy import make_url

from infra.cluster import ClusterSettings
from infra.ensure.database import tenant_database_url
from registry.exchange.signing import public_key_set_of
from tenants import TenantSpec


def database_name(spec: TenantSpec) -> str:
    """The tenant's database and login role on the shared server."""
    return f"fsp_{spec.slug.replace('-', '_')}"


@dataclass(frozen=True)
class StackInputs:
    """One tenant's stack; secret fields are kept out of repr and enter the program as secret Outputs."""

    spec: TenantSpec
    cluster: ClusterSettings
    postgres_admin_url: str = field(repr=False)
    database_password: str = field(repr=False)
    # key file name → content, as the registry reads them from FSP_KEYS_DIR
    key_files: dict[str, bytes] = field(repr=False)
    keycloak_admin_username: str = field(repr=False)
    keycloak_admin_password: str = field(repr=False)
    # the ministry's list of trusted province keys, kept by the control plane
    peers_dir: str
    # the ministry federates these; empty for a province
    provinces: tuple[TenantSpec, ...] = ()
    # trusted province keys (slug → PEM) the ministry's exchange hub is given
    peers: dict[str, str] = field(default_factory=dict)
    # the tenant's Prometheus files (prometheus.yml, rules/...), rendered by the monitoring package
    prometheus_files: dict[str, str] = field(default_factory=dict)
    # the ministry's fleet Prometheus files, federating every tenant's Prometheus
    fleet_files: dict[str, str] = field(default_factory=dict)
    # the ministry's Alertmanager configuration (monitoring/alertmanager/alertmanager.yml as rendered)
    alertmanager_yml: str = ""
    # the client secret of the government-service identity the realm brokers for citizens (None: it has none)
    identity_secret: str | None = field(default=None, repr=False)

    @property
    def database_name(self) -> str:
        return database_name(self.spec)

    @property
    def database_url(self) -> str:
        """The registry's SQLAlchemy URL, with the tenant role's password."""
        url = tenant_database_url(self.postgres_admin_url, database=self.database_name, role=self.database_name,
                                  password=self.database_password)
        if self.cluster.database_host:
            url = make_url(url).set(host=self.cluster.database_host).render_as_string(hide_password=False)
        return url

    @property
    def libpq_url(self) -> str:
        """The same URL as pg_dump takes it."""
        return make_url(self.database_url).set(drivername="postgresql").render_as_string(hide_password=False)

    @property
    def keycloak_url(self) -> str:
        """The tenant's own Keycloak when its spec names one, else the cluster's."""
        return str(self.spec.sso.keycloak_url or self.cluster.keycloak_url).rstrip("/")

    @property
    def keycloak_admin_url(self) -> str:
        """Where the control plane reaches Keycloak's admin API to converge the realm."""
        return str(self.cluster.keycloak_admin_url or self.keycloak_url).rstrip("/")

    @property
    def token_issuer(self) -> str:
        return f"{self.keycloak_url}/realms/{self.spec.realm_name}"

    @property
    def exchange_public_pem(self) -> str:
        """The province's exchange public keys as the ministry registers them (old and new during a rotation)."""
        return public_key_set_of(self.key_files).decode()
