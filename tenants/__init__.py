"""Tenant catalog of the funeral-service platform: who the tenants are and how each stack is set up."""

from tenants.catalog import (
    DEFAULT_CATALOG_DIR,
    Catalog,
    CatalogError,
    CatalogProblem,
    UnknownTenantError,
    load_catalog,
)
from tenants.spec import (
    DatabaseSettings,
    EquipmentSettings,
    ExchangeSettings,
    MonitoringSettings,
    SsoSettings,
    TenantSpec,
)

__all__ = [
    "DEFAULT_CATALOG_DIR",
    "Catalog",
    "CatalogError",
    "CatalogProblem",
    "DatabaseSettings",
    "EquipmentSettings",
    "ExchangeSettings",
    "MonitoringSettings",
    "SsoSettings",
    "TenantSpec",
    "UnknownTenantError",
    "load_catalog",
]
