"""The payment provider behind one interface (`PaymentProvider`), and its one implementation: `SandboxProvider`,
which speaks HTTP to a provider with WeChat Pay v3's shape (the local sandbox, registry.payments.sandbox_provider).

Every answer and notification of the provider is signed with its private key and verified here with the public
key the province configured (never fetched from the provider: a key fetched from who we talk to proves nothing)."""
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

import httpx

from registry.payments import signing

PAID, REFUNDED = "paid", "refunded"  # the kinds of notice


class ProviderError(Exception):
    """The provider could not be reached, refused, or answered something unsigned or malformed."""


@dataclass(frozen=True)
class Notice:
    """A verified notification: the provider says an order was paid, or a refund made."""
    notice_id: str
    nonce: str
    kind: str  # PAID or REFUNDED
    order_no: str
    amount_fen: int
    transaction_id: str
    at: datetime
    refund_no: str | None = None


@dataclass(frozen=True)
class ProviderOrder:
    order_no: str
    state: str  # NOTPAY, SUCCESS, CLOSED, REFUND
    amount_fen: int
    transaction_id: str | None
    paid_at: datetime | None


@dataclass(frozen=True)
class StatementRow:
    """One payment of the provider's statement of a day."""
    order_no: str
    transaction_id: str
    amount_fen: int
    paid_at: datetime


@dataclass(frozen=True)
class Charge:
    """What the provider is asked to charge: no one's name, the booking's number as the description."""
    order_no: str
    amount_fen: int
    description: str
    expires_at: datetime
    notify_url: str
    return_url: str


class PaymentProvider(Protocol):
    def create_payment(self, charge: Charge) -> str:
        """The URL the payer is sent to (the provider's pay page)."""

    def verify_notification(self, headers, body: bytes) -> Notice:
        """The notice if the provider signed it just now; signing.SignatureRefused or ValueError otherwise."""

    def query(self, order_no: str) -> ProviderOrder | None: ...

    def refund(self, order_no: str, amount_fen: int, refund_no: str) -> None:
        """Ask for the refund; the provider notifies when it is made (idempotent per refund_no)."""

    def statement(self, day: date) -> list[StatementRow]: ...


def _fen(value) -> int:
    if type(value) is not int or value < 0:
        raise ValueError("an amount is a non-negative integer of fen")
    return value


def parse_notice(signed: signing.Signed) -> Notice:
    """The notice in a verified body; ValueError if it is not one."""
    data = json.loads(signed.body)
    resource = data["resource"]
    kind = {"TRANSACTION.SUCCESS": PAID, "REFUND.SUCCESS": REFUNDED}[data["event_type"]]
    amount = resource["amount"]["refund" if kind == REFUNDED else "total"]
    return Notice(notice_id=str(data["id"])[:64], nonce=signed.nonce, kind=kind,
                  order_no=str(resource["out_trade_no"])[:32], amount_fen=_fen(amount),
                  transaction_id=str(resource["transaction_id"])[:64],
                  at=datetime.fromisoformat(resource["success_time"]),
                  refund_no=str(resource["out_refund_no"])[:32] if kind == REFUNDED else None)


class SandboxProvider:
    """The provider's API over HTTP: requests carry the merchant's id and key, answers are verified."""

    def __init__(self, base_url: str, public_key_pem: bytes, *, merchant_id: str, merchant_key: str,
                 timeout: float = 10.0, transport: httpx.BaseTransport | None = None):
        self.public_key = signing.load_public_key(public_key_pem)
        self.merchant_id = merchant_id
        self._client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport,
                                    headers={"Authorization": f"Bearer {merchant_key}"})

    def _call(self, method: str, path: str, **kwargs) -> dict:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as err:
            raise ProviderError(f"the payment provider is unreachable: {type(err).__name__}") from err
        try:
            signing.verify(self.public_key, response.headers, response.content)
            body = response.json()
        except (signing.SignatureRefused, ValueError) as err:
            raise ProviderError(f"the payment provider's answer is not signed by it ({response.status_code})") from err
        if response.status_code == 404:
            return {}
        if response.status_code >= 400:
            raise ProviderError(f"the payment provider refused: {response.status_code} {body.get('code', '')}")
        return body

    def create_payment(self, charge: Charge) -> str:
        body = self._call("POST", "/v3/pay/transactions", json={
            "mchid": self.merchant_id, "out_trade_no": charge.order_no, "description": charge.description,
            "amount": {"total": charge.amount_fen}, "time_expire": charge.expires_at.isoformat(),
            "notify_url": charge.notify_url, "return_url": charge.return_url})
        return str(body["pay_url"])

    def verify_notification(self, headers, body: bytes) -> Notice:
        return parse_notice(signing.verify(self.public_key, headers, body))

    def query(self, order_no: str) -> ProviderOrder | None:
        body = self._call("GET", f"/v3/pay/transactions/out-trade-no/{order_no}", params={"mchid": self.merchant_id})
        if not body:
            return None
        paid = body.get("success_time")
        return ProviderOrder(order_no=body["out_trade_no"], state=body["trade_state"],
                             amount_fen=_fen(body["amount"]["total"]), transaction_id=body.get("transaction_id"),
                             paid_at=datetime.fromisoformat(paid) if paid else None)

    def refund(self, order_no: str, amount_fen: int, refund_no: str) -> None:
        self._call("POST", "/v3/refund/domestic/refunds", json={
            "mchid": self.merchant_id, "out_trade_no": order_no, "out_refund_no": refund_no,
            "amount": {"refund": amount_fen, "total": amount_fen}})

    def statement(self, day: date) -> list[StatementRow]:
        body = self._call("GET", "/v3/bill/tradebill", params={"mchid": self.merchant_id, "bill_date": day.isoformat()})
        return [StatementRow(order_no=row["out_trade_no"], transaction_id=row["transaction_id"],
                             amount_fen=_fen(row["amount_fen"]), paid_at=datetime.fromisoformat(row["success_time"]))
                for row in body.get("rows", [])]
