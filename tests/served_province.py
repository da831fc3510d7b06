"""A provisioned province served for real on loopback, as a device and its staff meet it: register devices through
its API, read its /metrics. For the tests of `fsp devices simulate` and the MQTT bridge."""
import uuid
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from factories import institution_payload
from registry.security.auth import DevelopmentIssuer
from registry.security.keys import load_keys


@dataclass
class Province:
    url: str  # the served gateway's base (http://127.0.0.1:<port>)
    slug: str
    issuer: DevelopmentIssuer

    @classmethod
    def of(cls, target, url: str, slug: str = "beijing") -> "Province":
        settings = target.settings(target.catalog.resolve(slug))
        issuer = DevelopmentIssuer(load_keys(settings.keys_dir).token_private_pem, issuer=settings.issuer,
                                   audience=settings.token_audience)
        return cls(url, slug, issuer)

    @property
    def api(self) -> str:
        return f"{self.url}/{self.slug}/api/v1"

    def staff(self, *roles: str, institution: str | None = None) -> dict:
        token = self.issuer.mint("staff", list(roles), institution_id=uuid.UUID(institution) if institution else None)
        return {"Authorization": f"Bearer {token}"}

    def institution(self, **overrides) -> str:
        answer = httpx.post(f"{self.api}/institutions", json=institution_payload(**overrides),
                            headers=self.staff("provincial-admin"))
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def register(self, institution: str, kind: str = "cremator", **limits) -> tuple[str, str]:
        """(device id, credential) of a device registered by the institution's registrar."""
        body = {"kind": kind, "model": "测试型号", "location": "一号车间", "limits": limits}
        answer = httpx.post(f"{self.api}/institutions/{institution}/devices", json=body,
                            headers=self.staff("registrar", institution=institution))
        assert answer.status_code == 201, answer.text
        return answer.json()["device"]["id"], answer.json()["credential"]

    def device(self, device_id: str, institution: str) -> dict:
        answer = httpx.get(f"{self.api}/devices/{device_id}", headers=self.staff("registrar", institution=institution))
        assert answer.status_code == 200, answer.text
        return answer.json()

    def metrics(self) -> dict[tuple[str, tuple], float]:
        """Every equipment sample on the province's /metrics: (name, sorted labels) → value."""
        found = {}
        for family in text_string_to_metric_families(httpx.get(f"{self.url}/{self.slug}/metrics").text):
            for sample in family.samples:
                if sample.name.startswith("fsp_equipment_"):
                    found[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
        return found

    def sample(self, name: str, **labels: str) -> float | None:
        return self.metrics().get((name, tuple(sorted(labels.items()))))
