"""A province's exchange public key registered with the ministry, as a Pulumi dynamic resource."""
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult

from infra.providers import changed, fingerprint


def _outs(props: dict[str, Any]) -> dict[str, Any]:
    return {"peers_dir": props["peers_dir"], "slug": props["slug"], "public_pem": props["public_pem"],
            "key_fingerprint": fingerprint(props["public_pem"])}


class ExchangeRegistrationProvider(ResourceProvider):
    """create/update = ensure_exchange_registration; delete = remove_exchange_registration."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        from pathlib import Path

        from infra.ensure.registration import ensure_exchange_registration

        ensure_exchange_registration(Path(props["peers_dir"]), slug=props["slug"],
                                     public_pem=props["public_pem"].encode())
        return CreateResult(id_=props["slug"], outs=_outs(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = changed(olds, news, ("peers_dir", "slug"))
        updates = replaces + changed(olds, news, ("public_pem",))
        return DiffResult(changes=bool(updates), replaces=replaces, delete_before_replace=True)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self.create(news).outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        from pathlib import Path

        from infra.ensure.registration import remove_exchange_registration

        remove_exchange_registration(Path(props["peers_dir"]), slug=props["slug"])


class ExchangeRegistration(Resource, module="fsp", name="ExchangeRegistration"):
    """The ministry trusts `public_pem` for batches from `slug`; the trust list lives in `peers_dir`."""

    key_fingerprint: pulumi.Output[str]

    def __init__(self, name: str, *, peers_dir: str, slug: str, public_pem: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(ExchangeRegistrationProvider(), name, {
            "peers_dir": peers_dir, "slug": slug, "public_pem": public_pem, "key_fingerprint": None}, opts)
