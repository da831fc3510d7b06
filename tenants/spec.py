"""TenantSpec: what one tenant (a province or the ministry) is and how its stack is sized."""

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from tenants.divisions import MINISTRY_CODE, MINISTRY_SLUG, PROVINCIAL_DIVISIONS

Kind = Literal["province", "ministry"]


def _rule(message: str, **context: object) -> PydanticCustomError:
    """A validation error whose message is shown as is (no "Value error, " prefix)."""
    return PydanticCustomError("tenant_rule", message, context)


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Settings):
    """The tenant's registry database."""

    backend: Literal["sqlite", "postgresql"] = "sqlite"
    pool_size: Annotated[int, Field(ge=1, le=100)] = 5


class GovernmentIdentity(_Settings):
    """The province's government-service identity (政务服务统一身份认证), an OpenID Connect provider the tenant's
    realm brokers for citizens. Its client secret is never here: the control plane passes it in from the
    environment (infra.ensure.realm.GOV_ID_SECRET_ENV), as it does Keycloak's admin password."""

    alias: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,30}$")] = "gov-id"
    display_name: Annotated[str, Field(min_length=1, max_length=100)] = "政务服务平台"
    issuer: AnyHttpUrl
    authorization_url: AnyHttpUrl
    token_url: AnyHttpUrl
    jwks_url: AnyHttpUrl
    logout_url: AnyHttpUrl | None = None
    client_id: Annotated[str, Field(min_length=1, max_length=255)]


class SsoSettings(_Settings):
    """Where the tenant's staff sign in, and (with Keycloak) the identity its citizens sign in with."""

    provider: Literal["development", "keycloak"] = "development"
    # validate_default so a keycloak provider without a URL is reported at this field
    keycloak_url: Annotated[AnyHttpUrl | None, Field(validate_default=True)] = None
    # None means "fsp-<slug>"; TenantSpec fills it in
    realm: Annotated[str | None, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")] = None
    # brokered by the realm for citizens (我的办事); None: the tenant has none configured, so none is created
    government_identity: GovernmentIdentity | None = None

    @field_validator("keycloak_url")
    @classmethod
    def _url_with_keycloak(cls, url: AnyHttpUrl | None, info: ValidationInfo) -> AnyHttpUrl | None:
        if url is None and info.data.get("provider") == "keycloak":
            raise _rule("required when provider is keycloak")
        return url

    @field_validator("government_identity")
    @classmethod
    def _brokered_by_keycloak(cls, identity: GovernmentIdentity | None,
                              info: ValidationInfo) -> GovernmentIdentity | None:
        if identity is not None and info.data.get("provider") != "keycloak":
            raise _rule("only with provider keycloak: the realm brokers it")
        return identity


class ExchangeSettings(_Settings):
    """Outbox shipping to the ministry (MZ/T 141-2019 data exchange)."""

    enabled: bool = True
    batch_size: Annotated[int, Field(ge=1, le=10000)] = 1000
    interval_seconds: Annotated[int, Field(ge=1, le=3600)] = 5


# the departments a province shares confirmed deaths with (registry.sharing.departments holds their fields)
Department = Literal["public_security", "social_security", "minimum_living", "marriage", "health"]
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


class SharingSettings(_Settings):
    """Data sharing with other departments (部门数据共享): each department's receiving endpoint."""

    departments: dict[Department, AnyHttpUrl] = {}

    def __hash__(self) -> int:  # a TenantSpec is hashable (sets, dict keys): so is its mapping of departments
        return hash(tuple(sorted((name, str(url)) for name, url in self.departments.items())))

    @field_validator("departments")
    @classmethod
    def _personal_data_over_https(cls, departments: dict[str, AnyHttpUrl]) -> dict[str, AnyHttpUrl]:
        for name, url in departments.items():
            if url.scheme != "https" and url.host not in _LOOPBACK:
                raise _rule("{department}: notices carry personal data, so only https (or loopback for tests)",
                            department=name)
        return departments


class EquipmentSettings(_Settings):
    """Equipment telemetry (设备监测): devices post readings over HTTP; with a broker they may publish over MQTT."""

    # mqtts://host:port (mqtt:// on loopback only); no user or password here (the catalog holds no secret)
    mqtt: Annotated[str | None, Field(pattern=r"^mqtts?://[^/@\s]+$")] = None

    @field_validator("mqtt")
    @classmethod
    def _credentials_over_tls(cls, url: str | None) -> str | None:
        # every message carries its device's credential: in clear text only where it never leaves the machine
        if url and url.startswith("mqtt://") and urlsplit(url).hostname not in _LOOPBACK:
            raise _rule("messages carry device credentials, so only mqtts:// (or mqtt:// on loopback for tests)")
        return url


class MonitoringSettings(_Settings):
    """The tenant's Prometheus."""

    scrape_interval_seconds: Annotated[int, Field(ge=5, le=300)] = 15
    retention_days: Annotated[int, Field(ge=1, le=400)] = 15


class TenantSpec(BaseModel):
    """One tenant of the platform: identity, compliance floor and stack settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # kind comes first: the checks on code, slug, names and pilot depend on it
    kind: Kind
    code: Annotated[str, Field(pattern=r"^[0-9]{6}$")]
    slug: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,30}$")]
    name_zh: Annotated[str, Field(min_length=1)]
    name_en: Annotated[str, Field(min_length=1)]
    pilot: bool = False
    # grade-3 level protection (GB/T 22239-2019) is the floor the action plan sets for this system
    protection_grade: Literal[3] = 3
    audit_retention_days: Annotated[int, Field(ge=180)] = 180
    database: DatabaseSettings = DatabaseSettings()
    # validate_default so the realm is filled in when sso is omitted
    sso: Annotated[SsoSettings, Field(validate_default=True)] = SsoSettings()
    exchange: ExchangeSettings = ExchangeSettings()
    sharing: SharingSettings = SharingSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    equipment: EquipmentSettings = EquipmentSettings()

    @property
    def realm_name(self) -> str:
        """The tenant's Keycloak realm (or development issuer) name."""
        return self.sso.realm or f"fsp-{self.slug}"

    @field_validator("code", mode="before")
    @classmethod
    def _code_as_text(cls, code: object) -> object:
        # an unquoted YAML code arrives as an int
        if isinstance(code, int) and not isinstance(code, bool):
            return f"{code:06d}"
        return code

    @field_validator("code")
    @classmethod
    def _code_fits_kind(cls, code: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        if kind == "ministry" and code != MINISTRY_CODE:
            raise _rule("the ministry's code is {expected}", expected=MINISTRY_CODE)
        if kind == "province" and code not in PROVINCIAL_DIVISIONS:
            raise _rule(
                "{code} is not a provincial-level division code"
                " (GB/T 2260 mainland XX0000, or 660000 for XPCC)",
                code=code,
            )
        return code

    @field_validator("slug")
    @classmethod
    def _slug_fits_code(cls, slug: str, info: ValidationInfo) -> str:
        kind, code = info.data.get("kind"), info.data.get("code")
        if kind == "ministry" and slug != MINISTRY_SLUG:
            raise _rule("the ministry's slug is {expected}", expected=MINISTRY_SLUG)
        # catches look-alikes such as shanxi (140000) vs shaanxi (610000)
        division = PROVINCIAL_DIVISIONS.get(code) if kind == "province" else None
        if division and slug != division.slug:
            raise _rule("must be {expected} for code {code}", expected=division.slug, code=code)
        return slug

    @field_validator("name_zh")
    @classmethod
    def _name_fits_code(cls, name: str, info: ValidationInfo) -> str:
        kind, code = info.data.get("kind"), info.data.get("code")
        division = PROVINCIAL_DIVISIONS.get(code) if kind == "province" else None
        if division and name != division.name_zh:
            raise _rule("must be {expected} for code {code}", expected=division.name_zh, code=code)
        return name

    @field_validator("pilot")
    @classmethod
    def _only_provinces_pilot(cls, pilot: bool, info: ValidationInfo) -> bool:
        if pilot and info.data.get("kind") != "province":
            raise _rule("only provinces can be pilots")
        return pilot

    @field_validator("sso")
    @classmethod
    def _default_realm(cls, sso: SsoSettings, info: ValidationInfo) -> SsoSettings:
        slug = info.data.get("slug")
        if sso.realm is None and slug:
            return sso.model_copy(update={"realm": f"fsp-{slug}"})
        return sso

    @field_validator("equipment")
    @classmethod
    def _only_provinces_have_devices(cls, equipment: EquipmentSettings, info: ValidationInfo) -> EquipmentSettings:
        if equipment.mqtt and info.data.get("kind") != "province":
            raise _rule("only provinces have devices; the ministry sees their faults through monitoring")
        return equipment

    @field_validator("sharing")
    @classmethod
    def _only_provinces_share(cls, sharing: SharingSettings, info: ValidationInfo) -> SharingSettings:
        if sharing.departments and info.data.get("kind") != "province":
            raise _rule("only provinces share with departments; the ministry receives through the exchange")
        return sharing
