"""A local sandbox payment provider, shaped like WeChat Pay v3, for development and tests: its own process,

    FSP_SANDBOX_PUBLIC_KEY_FILE=provider.pem FSP_SANDBOX_MERCHANT_KEY=... \\
        uvicorn --factory registry.payments.sandbox_provider:from_environment --port 8700

It makes an RSA-2048 key when it starts (never stored: only its public key is written, for the registry to
verify with), signs every answer and notification (registry.payments.signing), shows a pay page the payer
confirms, notifies the merchant's notify_url, refunds (notifying after it answered), and serves a statement per
day. State is in memory. `/sandbox/...` lets tests lose, repeat, age or alter a notice. Never part of the registry."""
import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from html import escape
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from registry.db_types import CHINA_TZ
from registry.payments import signing


@dataclass
class Trade:
    mchid: str
    out_trade_no: str
    amount: int
    description: str
    notify_url: str
    return_url: str
    expires_at: datetime
    prepay_id: str = field(default_factory=lambda: secrets.token_hex(12))
    transaction_id: str = field(default_factory=lambda: "42" + secrets.token_hex(14))
    state: str = "NOTPAY"
    success_time: datetime | None = None
    notice_id: str = field(default_factory=lambda: secrets.token_hex(16))  # a retried notice keeps its id
    refunds: dict[str, int] = field(default_factory=dict)
    sent: list[dict] = field(default_factory=list)  # every notice sent, as sent (tests replay them)


def _now() -> datetime:
    return datetime.now(CHINA_TZ).replace(microsecond=0)


def create_sandbox(public_key_file: Path, merchant_key: str) -> FastAPI:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_key_file.write_bytes(signing.public_pem(key))
    trades: dict[str, Trade] = {}
    app = FastAPI(title="payment sandbox", docs_url=None, redoc_url=None, openapi_url=None)

    def signed(data: dict, status: int = 200) -> Response:
        body = json.dumps(data, ensure_ascii=False).encode()
        return Response(body, status_code=status, media_type="application/json", headers=signing.sign(key, body))

    def refused(status: int, code: str) -> Response:
        return signed({"code": code, "message": code}, status)

    def merchant(request: Request) -> bool:
        return secrets.compare_digest(request.headers.get("authorization", ""), f"Bearer {merchant_key}")

    def notice(trade: Trade, *, event_type: str = "TRANSACTION.SUCCESS", refund_no: str | None = None,
               amount: int | None = None, age_seconds: int = 0, notice_id: str | None = None) -> dict:
        resource = {"out_trade_no": trade.out_trade_no, "transaction_id": trade.transaction_id,
                    "success_time": (trade.success_time or _now()).isoformat(),
                    "amount": {"total": trade.amount if amount is None else amount}}
        if refund_no is not None:
            resource.update(out_refund_no=refund_no, amount={"refund": trade.refunds[refund_no] if amount is None
                                                             else amount, "total": trade.amount})
        body = json.dumps({"id": notice_id or trade.notice_id, "event_type": event_type,
                           "create_time": _now().isoformat(), "resource": resource}).encode()
        stamp = int(_now().timestamp()) - age_seconds
        return {"headers": signing.sign(key, body, timestamp=stamp), "body": body.decode()}

    def send(trade: Trade, message: dict) -> None:
        trade.sent.append(message)
        try:
            httpx.post(trade.notify_url, content=message["body"].encode(), timeout=10,
                       headers={**message["headers"], "Content-Type": "application/json"})
        except httpx.HTTPError:
            pass  # the merchant finds it by query or in the statement

    def pay(trade: Trade, *, notify: bool) -> None:
        if trade.state == "NOTPAY":
            trade.state, trade.success_time = "SUCCESS", _now()
            if notify:
                send(trade, notice(trade))

    @app.post("/v3/pay/transactions")
    async def create(request: Request) -> Response:
        if not merchant(request):
            return refused(401, "SIGN_ERROR")
        try:
            data = await request.json()
            amount = data["amount"]["total"]
            if type(amount) is not int or amount <= 0:
                raise ValueError
            trade = Trade(mchid=data["mchid"], out_trade_no=data["out_trade_no"], amount=amount,
                          description=data["description"], notify_url=data["notify_url"],
                          return_url=data["return_url"], expires_at=datetime.fromisoformat(data["time_expire"]))
        except (ValueError, KeyError, TypeError):
            return refused(400, "PARAM_ERROR")
        known = trades.setdefault(trade.out_trade_no, trade)
        if known.amount != trade.amount:
            return refused(409, "OUT_TRADE_NO_USED")
        return signed({"prepay_id": known.prepay_id, "pay_url": f"{request.base_url}pay/{known.prepay_id}"})

    def by_prepay(prepay_id: str) -> Trade | None:
        return next((trade for trade in trades.values() if trade.prepay_id == prepay_id), None)

    @app.get("/pay/{prepay_id}", response_class=HTMLResponse)
    def pay_page(prepay_id: str) -> HTMLResponse:
        trade = by_prepay(prepay_id)
        if trade is None:
            return HTMLResponse("<p>没有这笔订单</p>", status_code=404)
        action = (f'<form method="post"><button type="submit">确认支付 ¥{trade.amount / 100:.2f}</button></form>'
                  if trade.state == "NOTPAY" and trade.expires_at > _now() else "<p>该订单已支付或已过期</p>")
        return HTMLResponse(f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>支付沙箱</title>'
                            f'<meta name="viewport" content="width=device-width"></head><body><main><h1>支付沙箱</h1>'
                            f'<p>{escape(trade.description)}</p><p>订单号 {escape(trade.out_trade_no)}</p>{action}'
                            f'<p><a href="{escape(trade.return_url)}">返回商户</a></p></main></body></html>')

    @app.post("/pay/{prepay_id}")
    def confirm(prepay_id: str) -> Response:
        trade = by_prepay(prepay_id)
        if trade is None or trade.expires_at <= _now():
            return HTMLResponse("<p>订单不存在或已过期</p>", status_code=404)
        pay(trade, notify=True)
        return RedirectResponse(trade.return_url, status_code=303)

    @app.get("/v3/pay/transactions/out-trade-no/{out_trade_no}")
    def query(out_trade_no: str, request: Request) -> Response:
        trade = trades.get(out_trade_no)
        if not merchant(request):
            return refused(401, "SIGN_ERROR")
        if trade is None:
            return refused(404, "ORDER_NOT_EXIST")
        state = "CLOSED" if trade.state == "NOTPAY" and trade.expires_at <= _now() else trade.state
        return signed({"out_trade_no": trade.out_trade_no, "transaction_id": trade.transaction_id, "trade_state": state,
                       "amount": {"total": trade.amount},
                       "success_time": trade.success_time.isoformat() if trade.success_time else None})

    @app.post("/v3/refund/domestic/refunds")
    async def refund(request: Request, later: BackgroundTasks) -> Response:
        if not merchant(request):
            return refused(401, "SIGN_ERROR")
        try:
            data = await request.json()
            trade, refund_no, amount = trades[data["out_trade_no"]], data["out_refund_no"], data["amount"]["refund"]
        except (ValueError, KeyError, TypeError):
            return refused(400, "PARAM_ERROR")
        if trade.state not in ("SUCCESS", "REFUND") or type(amount) is not int or not 0 < amount <= trade.amount:
            return refused(400, "INVALID_REQUEST")
        if refund_no not in trade.refunds:  # a refund number is refunded once, however often it is asked
            trade.refunds[refund_no], trade.state = amount, "REFUND"
            later.add_task(send, trade, notice(trade, event_type="REFUND.SUCCESS", refund_no=refund_no,
                                               notice_id=secrets.token_hex(16)))
        return signed({"out_refund_no": refund_no, "status": "PROCESSING"})

    @app.get("/v3/bill/tradebill")
    def statement(bill_date: date, request: Request) -> Response:
        if not merchant(request):
            return refused(401, "SIGN_ERROR")
        rows = [{"out_trade_no": trade.out_trade_no, "transaction_id": trade.transaction_id, "amount_fen": trade.amount,
                 "success_time": trade.success_time.isoformat()}
                for trade in trades.values() if trade.success_time and trade.success_time.date() == bill_date]
        return signed({"bill_date": bill_date.isoformat(), "rows": rows})

    @app.post("/sandbox/transactions/{out_trade_no}/pay")
    def pay_without_notice(out_trade_no: str, request: Request, notify: bool = True) -> Response:
        """The payer pays; with notify=false the notice is lost on the way."""
        trade = trades.get(out_trade_no)
        if not merchant(request) or trade is None:
            return refused(404, "ORDER_NOT_EXIST")
        pay(trade, notify=notify)
        return signed({"trade_state": trade.state})

    @app.post("/sandbox/transactions/{out_trade_no}/notification")
    async def make_notice(out_trade_no: str, request: Request) -> Response:
        """A paid notice of the trade, sent again (`send`, a provider's retry: same id, new nonce) or only
        returned, aged by `age_seconds` or with another `amount_fen`, for a test to post."""
        trade = trades.get(out_trade_no)
        if not merchant(request) or trade is None:
            return refused(404, "ORDER_NOT_EXIST")
        options = await request.json()
        message = notice(trade, amount=options.get("amount_fen"), age_seconds=options.get("age_seconds", 0))
        if options.get("send"):
            send(trade, message)
        return signed(message)

    @app.get("/sandbox/transactions/{out_trade_no}/notifications")
    def sent(out_trade_no: str, request: Request) -> Response:
        trade = trades.get(out_trade_no)
        if not merchant(request) or trade is None:
            return refused(404, "ORDER_NOT_EXIST")
        return signed({"sent": trade.sent})

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}

    return app


def from_environment() -> FastAPI:
    """uvicorn's factory: the public key's file and the merchant's key from the environment."""
    return create_sandbox(Path(os.environ["FSP_SANDBOX_PUBLIC_KEY_FILE"]), os.environ["FSP_SANDBOX_MERCHANT_KEY"])
