"""Province side: ship the outbox to the ministry's hub over HTTP, batch by batch, until nothing is pending.

The ministry is "unreachable" when nothing answers (connection refused, timeout, DNS) or a gateway answers for it
(502, 503 — e.g. `fsp serve` not serving the ministry now —, 504); "unavailable" when it answers 500 or 429. Both are
retried with exponential backoff, then raise `ShipUnavailable` (its `reason` is the metric label). When it answers that it
expects an earlier seq than the batch starts with (its database was restored from a backup), the worker resends
from there, shipped events included. Any other refusal (401 key not registered, 409 differing resend, 4xx
malformed) needs an operator, and `ShipRefused` says why.
After the events, a round pulls back the cross-province pairs naming the province. A pull the ministry refuses
(the two clocks more than 5 minutes apart, say) or does not answer stops nothing: the round reports it
(`matches_problem`, `fsp_exchange_matches_pull_failing`) and the next round asks again.
The outbox is marked shipped only after the hub acknowledged; a crash in between makes the next round resend
events the hub already holds, which it acknowledges again without storing them twice.
While the tenant is suspended (`fsp suspend`) nothing is shipped: the round reports `paused`, and the first round
after `fsp resume` ships from the first unshipped event on.
"""
import logging
import random
import threading
import time
from dataclasses import dataclass

import httpx
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session

from registry import tenant_status
from registry.cross_province import service as cross_province
from registry.db_types import utcnow
from registry.exchange import matches, outbound
from registry.exchange.metrics import WorkerMetrics
from registry.exchange.signing import SIGNATURE_HEADER, BatchSigner, canonical
from registry.journal import Journal

log = logging.getLogger(__name__)
BATCHES_PATH = "/api/v1/exchange/batches"


class ShipRefused(Exception):
    """The hub refused a batch; retrying the same batch cannot help."""

    def __init__(self, reason: str, message: str, *, expected_seq: int | None = None):
        super().__init__(message)
        self.reason, self.expected_seq = reason, expected_seq


class ShipUnavailable(Exception):
    """The hub could not be reached (reason `unreachable`) or kept failing (`unavailable`) after every retry."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


UNREACHABLE_STATUSES = frozenset({502, 503, 504})  # a gateway answered for a ministry it could not reach


@dataclass
class ShipReport:
    shipped: int = 0
    batches: int = 0
    acknowledged_through: int | None = None
    # the tenant is suspended: nothing was shipped, nothing was tried
    paused: bool = False
    # cross-province pairs pulled back from the ministry (with a journal to keep them)
    matches_received: int = 0
    # why the pull of those pairs failed this round (the events were shipped all the same)
    matches_problem: str | None = None


@dataclass
class Shipper:
    """Ships one province's outbox to the hub at `url` (its base URL; the batches path is appended)."""

    engine: Engine
    signer: BatchSigner
    url: str
    province: str
    province_code: str
    client: httpx.Client
    batch_size: int = 1000
    max_bytes: int = 1024 * 1024
    retry_attempts: int = 5
    retry_base_seconds: float = 0.5
    metrics: WorkerMetrics | None = None
    stop: threading.Event | None = None
    # offboarding ships the last of a suspended tenant's outbox (its writes are refused meanwhile)
    while_suspended: bool = False
    # the province's journal: with it, each round also pulls back the ministry's cross-province pairs
    journal: Journal | None = None

    def ship_pending(self) -> ShipReport:
        """Ship until nothing is pending; raises ShipRefused or ShipUnavailable (what was acknowledged stays marked)."""
        report = ShipReport()
        status = tenant_status.read(self.engine)
        if status.suspended and not self.while_suspended:
            report.paused = True
            return report
        resend_from: int | None = None  # set when the ministry lost events it had acknowledged
        while not self._stopping():
            if resend_from is None:
                events = outbound.unshipped(self.engine, limit=self.batch_size)
            else:
                events = outbound.from_seq(self.engine, start=resend_from, limit=self.batch_size)
            if not events:
                break
            try:
                body, taken = outbound.batch_body(events, province=self.province, province_code=self.province_code,
                                                  max_bytes=self.max_bytes, incarnation=status.incarnation)
            except outbound.EventTooLarge as exc:
                self._failed("too_large")
                raise ShipRefused("too_large", str(exc)) from None
            last_seq = events[taken - 1].seq
            try:
                acknowledged = self._post(body)
            except ShipRefused as refused:
                expected = refused.expected_seq
                if refused.reason != "gap" or expected is None or resend_from is not None \
                        or not 1 <= expected < events[0].seq:
                    raise
                log.warning("exchange: the ministry expects seq %d, not %d (restored from a backup?): resending "
                            "from %d", expected, events[0].seq, expected)
                resend_from = expected
                continue
            # only what this batch carried: events past it are resent, so the hub checks their ids itself
            marked = outbound.mark_shipped(self.engine, through=min(acknowledged, last_seq))
            report.shipped += marked
            report.batches += 1
            report.acknowledged_through = acknowledged
            if self.metrics:
                self.metrics.batches.inc()
                self.metrics.events.inc(marked)
                self.metrics.acknowledged.set(acknowledged)
            if acknowledged < last_seq:
                self._failed("rejected")
                raise ShipRefused("rejected", f"the hub acknowledged through {acknowledged}, not {last_seq}")
            if resend_from is not None:
                resend_from = acknowledged + 1
        if self.journal is not None and not self._stopping():
            report.matches_received, report.matches_problem = self._pull_matches_apart()
        if self.metrics:
            self.metrics.last_success.set(time.time())
        return report

    def _pull_matches_apart(self) -> tuple[int, str | None]:
        """The pull, kept apart from shipping: its failure is reported and retried next round, since the events
        the province ships meanwhile need nothing from it."""
        try:
            received = self.pull_matches()
        except (ShipRefused, ShipUnavailable) as exc:
            log.warning("exchange: the cross-province pairs were not pulled (%s); shipping goes on and the next "
                        "round asks again", exc)
            if self.metrics:
                self.metrics.matches_failing.set(1)
            return 0, str(exc)
        if self.metrics:
            self.metrics.matches_failing.set(0)
        return received, None

    def pull_matches(self) -> int:
        """Fetch the pairs the ministry found of this province's people in other provinces, past the last one held,
        and keep them for the reviewers (registry.cross_province); how many were new. A ministry without the
        route (404, an older version) has none to give."""
        received = 0
        while not self._stopping():
            with Session(self.engine) as session:
                after = cross_province.last_match_id(session)
            body = canonical({"province": self.province, "after": after, "requested_at": utcnow().isoformat()})
            response = self._send(matches.MATCHES_PATH, body)
            if response.status_code == 404:
                log.info("exchange: the ministry at %s returns no cross-province matches (404)", self.url)
                return received
            if response.status_code != 200:
                self._failed("matches")
                raise ShipRefused("matches", f"the ministry refused to return matches ({response.status_code}): "
                                             f"{_first_problem(response)[0]}")
            try:
                answer = matches.MatchesAnswer.model_validate_json(response.content)
            except ValidationError:
                self._failed("matches")
                raise ShipRefused("matches", "the ministry's matches answer is malformed") from None
            if answer.matches:
                with Session(self.engine) as session:
                    new = cross_province.store(session, self.journal, answer.matches)
                received += new
                if self.metrics:
                    self.metrics.matches.inc(new)
            if not answer.more or not answer.matches:
                break
        return received

    def _post(self, body: bytes) -> int:
        """The hub's acknowledged seq for this body; retries what may succeed later."""
        return self._acknowledged(self._send(BATCHES_PATH, body))

    def _send(self, path: str, body: bytes) -> httpx.Response:
        """The ministry's answer to the signed body at `path`; retries what may succeed later."""
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: self.signer.sign(body)}
        target = self.url.rstrip("/") + path
        problem, reason = "", "unreachable"
        for attempt in range(self.retry_attempts):
            if attempt:
                delay = self.retry_base_seconds * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)  # jitter
                log.warning("exchange: %s; retrying in %.1fs (attempt %d of %d)", problem, delay, attempt + 1,
                            self.retry_attempts)
                if self.stop is not None and self.stop.wait(delay):
                    break
                if self.stop is None:
                    time.sleep(delay)
            try:
                response = self.client.post(target, content=body, headers=headers)
            except httpx.HTTPError as exc:
                problem, reason = f"the ministry is unreachable at {target}: {type(exc).__name__}", "unreachable"
                continue
            if response.status_code in UNREACHABLE_STATUSES:
                problem, reason = (f"the ministry is unreachable at {target} ({response.status_code}: "
                                   f"{_first_problem(response)[0]})"), "unreachable"
                continue
            if response.status_code >= 500 or response.status_code == 429:
                problem, reason = f"the ministry is unavailable: it answered {response.status_code}", "unavailable"
                continue
            return response
        self._failed(reason)
        raise ShipUnavailable(reason, problem or "stopped before the ministry answered")

    def _acknowledged(self, response: httpx.Response) -> int:
        if response.status_code == 200:
            try:
                return int(response.json()["acknowledged_through"])
            except (ValueError, KeyError, TypeError):
                self._failed("rejected")
                raise ShipRefused("rejected", "the hub's answer has no acknowledged_through") from None
        detail, rule, problem = _first_problem(response)
        if response.status_code == 401:
            self._failed("unauthorized")
            raise ShipRefused("unauthorized", f"the ministry refused {self.province}'s signature (401): is its "
                                              f"exchange key registered with the ministry? {detail}")
        if response.status_code == 409:
            reason = "gap" if rule == "no_gap" else "rejected"
            self._failed(reason)
            expected = problem.get("expected_seq")
            raise ShipRefused(reason, f"the ministry refused the batch (409): {detail}",
                              expected_seq=expected if isinstance(expected, int) else None)
        self._failed("rejected")
        raise ShipRefused("rejected", f"the ministry refused the batch ({response.status_code}): {detail}")

    def _failed(self, reason: str) -> None:
        if self.metrics:
            self.metrics.failures.labels(reason=reason).inc()

    def _stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()


def _first_problem(response: httpx.Response) -> tuple[str, str, dict]:
    """(readable detail, rule, the whole problem) of the error answer's first problem."""
    try:
        problem = response.json()["errors"][0]
        return f"{problem['field']}: {problem['message']}", str(problem["rule"]), problem
    except (ValueError, KeyError, IndexError, TypeError):
        return response.text[:200], "", {}
