"""Settings of one registry app: one tenant, one database, one issuer."""
from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Role(StrEnum):
    province = "province"
    ministry = "ministry"


class Settings(BaseSettings):
    """Everything a running tenant needs; read from FSP_* variables or passed in by the control plane."""

    model_config = SettingsConfigDict(env_prefix="FSP_", extra="ignore", frozen=True)

    tenant_code: str = Field(default="110000", pattern=r"^\d{6}$")
    tenant_slug: str = Field(default="beijing", pattern=r"^[a-z][a-z0-9-]{1,30}$")
    role: Role = Role.province
    database_url: str = "sqlite:///./.fsp/registry.db"
    keys_dir: Path = Path("./.fsp/keys")
    # checkpoints of the audit chain's head, outside the database (None: `<keys_dir>.audit-checkpoint.json` beside keys_dir);
    # must be writable, persistent and out of reach of the database's administrators
    audit_checkpoint_file: Path | None = None
    token_issuer: str | None = None
    token_audience: str = "registry-api"
    # the issuer's signing keys; None means Keycloak's own path under the issuer (realm) URL
    token_jwks_url: str | None = None
    # an unknown key id refetches the JWKS (key rotation), but not more often than this
    token_jwks_refetch_seconds: float = 10.0
    # the realm's public client the staff workbench signs people in as (authorization code with PKCE)
    workbench_client_id: str = "registry-portal"
    # the realm's alias of the province's government-service identity provider citizens sign in with (None: the
    # tenant has none configured; the realm's own sign-in page is shown)
    citizen_identity_provider: str | None = None
    environment: str = "development"
    # where citizens reach this tenant's portal (e.g. https://fsp.example.gov.cn/beijing), printed in certificates'
    # QR codes; None: the address the request for the print page came in on
    public_url: str | None = None
    max_body_bytes: int = 64 * 1024
    # an approval's attachment (PDF, JPEG, PNG): its upload route alone accepts a body this large
    attachment_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    # a virus scanner run on every attachment before it is stored, e.g. "clamdscan --no-summary": the file's path
    # is its last argument; exit 0 clean, anything else infected. None: not configured (said by /readyz)
    virus_scan_command: str | None = None
    virus_scan_timeout_seconds: float = Field(default=60.0, gt=0)
    # a bulk import's batch (POST /cases/imports/bulk, provincial admin): up to 2,000 archived cases
    max_import_body_bytes: int = Field(default=4 * 1024 * 1024, ge=64 * 1024)
    db_pool_size: int = 5
    # case declarations written together in one transaction at most (1: each alone)
    group_commit_max: int = Field(default=32, ge=1, le=1000)
    # under load, how long the next transaction may wait for the requests of the last one's clients (0: never)
    group_commit_linger_seconds: float = Field(default=0.003, ge=0, le=0.05)
    # where the control plane writes this tenant's backups; /metrics reports the newest one's time
    backup_dir: Path | None = None
    # the last `fsp baseline check` of this tenant (written by the control plane); /metrics reports its counts
    baseline_file: Path | None = None
    # the ministry's: the control plane's last fleet-wide drift run (`fsp drift`); /metrics counts what it found
    drift_file: Path | None = None
    # a province's sweeps (registry.sweeps) run by the app itself every this many seconds; 0: not by the app
    # (`fsp serve` runs them as its own background work; on Kubernetes each registry replica runs them)
    sweep_interval_seconds: float = Field(default=0.0, ge=0, le=86400)
    # data exchange, province side: the hub's base URL and how the worker ships the outbox
    exchange_url: str | None = None
    exchange_batch_size: int = Field(default=1000, ge=1, le=10000)
    exchange_interval_seconds: float = Field(default=5.0, gt=0, le=3600)
    # a batch's body stays under this, and the ministry's receiver takes batch bodies up to its own value: large
    # batches are what makes national ingest fast (one signature, one set-wise write per batch)
    exchange_max_batch_bytes: int = Field(default=1024 * 1024, ge=1024, le=16 * 1024 * 1024)
    exchange_timeout_seconds: float = Field(default=10.0, gt=0)
    exchange_retry_attempts: int = Field(default=5, ge=1, le=20)
    exchange_retry_base_seconds: float = Field(default=0.5, ge=0)
    # data exchange, ministry side: one `<slug>.pem` key set per trusted province (SM2 and/or Ed25519 public keys)
    exchange_peers_dir: Path | None = None
    exchange_max_batch_events: int = Field(default=10000, ge=1)
    # where the exchange-hub / exchange-worker processes listen (health, readiness, metrics, batches)
    exchange_host: str = "0.0.0.0"
    exchange_port: int = Field(default=8000, ge=1, le=65535)
    # equipment telemetry: the province's MQTT broker (mqtt://host:port or mqtts://), whose device messages `fsp
    # serve` forwards to the ingest endpoint; None: devices post their readings over HTTP only
    mqtt_url: str | None = Field(default=None, pattern=r"^mqtts?://[^/@\s]+$")
    # online payment of booked services (registry.payments): the provider's API (None: not offered), the public
    # key its notifications are verified with (PEM), and this province's merchant account there
    payment_provider_url: str | None = None
    payment_provider_public_key_file: Path | None = None
    payment_merchant_id: str | None = None
    payment_merchant_key: SecretStr | None = None
    # where the provider sends its notifications (None: this API's own address, as the request reached it)
    payment_notify_url: str | None = None
    payment_order_minutes: int = Field(default=30, ge=5, le=24 * 60)  # an unpaid order closes after this
    payment_timeout_seconds: float = Field(default=10.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, url: str) -> str:
        if not url.startswith(("sqlite", "postgresql")):
            raise ValueError("database_url must be a sqlite:// or postgresql+psycopg:// URL")
        return url

    @model_validator(mode="after")
    def _production_needs_real_issuer(self) -> "Settings":
        # the development issuer mints its own tokens: never acceptable outside development
        if self.environment != "development" and self.issuer.startswith("fsp-dev:"):
            raise ValueError("a non-development environment needs FSP_TOKEN_ISSUER set to the tenant's realm")
        return self

    @property
    def issuer(self) -> str:
        """The token issuer this tenant trusts."""
        return self.token_issuer or f"fsp-dev:{self.tenant_slug}"

    @property
    def own_province(self) -> tuple[str, str] | None:
        """(slug, code) of the province this tenant is; None at the ministry, whose figures are every province's."""
        return None if self.role == Role.ministry else (self.tenant_slug, self.tenant_code)

    @property
    def audit_checkpoint_path(self) -> Path:
        # named after its keys directory: two tenants whose keys sit side by side never share checkpoints
        return self.audit_checkpoint_file or self.keys_dir.with_name(f"{self.keys_dir.name}.audit-checkpoint.json")

    @property
    def uses_development_issuer(self) -> bool:
        return self.issuer.startswith("fsp-dev:")

    @property
    def jwks_url(self) -> str:
        """Where the tenant's realm publishes its signing keys (JWKS)."""
        return self.token_jwks_url or f"{self.issuer.rstrip('/')}/protocol/openid-connect/certs"

    @property
    def province_prefix(self) -> str:
        """First two digits of the GB/T 2260 code: every region of the province starts with them."""
        return self.tenant_code[:2]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
