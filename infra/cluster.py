"""What the Kubernetes programs need to know about the cluster they run on: images, domains, neighbours."""
import re
from typing import Annotated

from pydantic import AfterValidator, AnyHttpUrl, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DIGEST_PINNED = re.compile(r"^[a-z0-9][a-z0-9._/:-]*@sha256:[0-9a-f]{64}$")
# what an image not configured yet is called: the images policy rejects it, and `up` refuses it
UNSET_IMAGE = "unset"


def _digest_pinned(image: str) -> str:
    if image != UNSET_IMAGE and not DIGEST_PINNED.match(image):
        raise ValueError(f"{image!r} is not pinned by digest: give it as name@sha256:<64 hex>")
    return image


Image = Annotated[str, AfterValidator(_digest_pinned)]
Cidr = Annotated[str, Field(pattern=r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$")]


class ClusterSettings(BaseSettings):
    """Read from FSP_K8S_* variables; every image pinned by digest (name@sha256:...)."""

    model_config = SettingsConfigDict(env_prefix="FSP_K8S_", extra="ignore", frozen=True)

    registry_image: Image = UNSET_IMAGE
    prometheus_image: Image = UNSET_IMAGE
    alertmanager_image: Image = UNSET_IMAGE
    # runs pg_dump for the backup CronJob
    backup_image: Image = UNSET_IMAGE
    base_domain: Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")] = "fsp.mca.gov.cn"
    ingress_class: str = "nginx"
    ingress_namespace: str = "ingress-nginx"
    tls_cluster_issuer: str = "fsp-ca"
    # what the pods use as token issuer base; the operator may reach Keycloak's admin API elsewhere
    keycloak_url: AnyHttpUrl = AnyHttpUrl("http://keycloak.keycloak.svc:8080")
    keycloak_admin_url: AnyHttpUrl | None = None
    keycloak_namespace: str = "keycloak"
    # where the PostgreSQL server sits; egress to port 5432 is allowed there only
    database_cidr: Cidr = "10.0.0.0/8"
    # the host the pods reach PostgreSQL at, when it differs from the --postgres DSN's host
    database_host: str | None = None
    registry_replicas: Annotated[int, Field(ge=2, le=50)] = 2
    storage_class: str | None = None

    def unset_images(self) -> list[str]:
        """The FSP_K8S_* variables still to set before anything can be deployed."""
        return [f"FSP_K8S_{name.upper()}" for name in ("registry_image", "prometheus_image", "alertmanager_image",
                                                       "backup_image") if getattr(self, name) == UNSET_IMAGE]


def namespace_of(slug: str) -> str:
    """Each tenant's namespace."""
    return f"fsp-{slug}"
