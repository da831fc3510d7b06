"""What a tenant's payments need at run time (`ctx.payments`): its provider, built once from the settings, and
the refused notices per client (anyone can send them)."""
from dataclasses import dataclass, field

from registry.config import Settings
from registry.errors import DomainError
from registry.limits import AttemptLimiter
from registry.payments.provider import PaymentProvider, SandboxProvider


class PaymentUnavailable(DomainError):
    """The provider did not answer: nothing was charged, nothing written; try again later."""
    status, title = 503, "service unavailable"


class PaymentNotOffered(DomainError):
    """The province has configured no provider: online payment is not offered (not a passing fault)."""
    status, title = 409, "conflict"


@dataclass
class Payments:
    provider: PaymentProvider | None
    refused_notices: AttemptLimiter = field(default_factory=lambda: AttemptLimiter(max_failures=20, window_seconds=600))

    def require(self) -> PaymentProvider:
        if self.provider is None:
            raise PaymentNotOffered("payment", "payment_unavailable", "online payment is not offered by this province")
        return self.provider


def from_settings(settings: Settings) -> Payments:
    """The tenant's provider, when its URL, public key and merchant account are all configured."""
    if not (settings.payment_provider_url and settings.payment_provider_public_key_file and settings.payment_merchant_id
            and settings.payment_merchant_key):
        return Payments(provider=None)
    return Payments(provider=SandboxProvider(
        settings.payment_provider_url, settings.payment_provider_public_key_file.read_bytes(),
        merchant_id=settings.payment_merchant_id, merchant_key=settings.payment_merchant_key.get_secret_value(),
        timeout=settings.payment_timeout_seconds))
