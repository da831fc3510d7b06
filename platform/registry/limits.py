"""Refuse oversized bodies before they are read into memory, and public guesses past a limit."""
import json
import re
import threading
import time

# the audit entry's action column holds 200 characters; a path may be as long as the server accepts
_MAX_AUDITED_PATH = 150


def refused_action(scope) -> str:
    """`METHOD /path` of a refused request for the audit trail, its path cut short if it is longer than a route."""
    path = scope["path"]
    if len(path) > _MAX_AUDITED_PATH:
        path = path[:_MAX_AUDITED_PATH] + "…"
    return f"{scope['method']} {path}"


def refused_actor(verifier, scope) -> str:
    """Who a request refused before its route ran speaks for, for the audit trail: the subject of a valid bearer
    token, else `anonymous` (the refusal stands either way; run it off the event loop, a key may be fetched)."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or not token:
                break
            try:
                return verifier.verify(token.strip()).subject
            except Exception:  # an invalid token: this refusal is not the place to say so, the audit says anonymous
                break
    return "anonymous"


class BodySizeLimit:
    """Pure ASGI middleware: 413 past max_bytes, whether or not Content-Length was sent.

    The body is read (up to max_bytes) before the app runs, so a chunked body over the limit is refused here
    like a declared one, not half-parsed by the framework."""

    def __init__(self, app, max_bytes: int, on_refuse=None, larger: tuple[tuple[str, re.Pattern, int], ...] = ()):
        self.app, self.max_bytes, self.on_refuse = app, max_bytes, on_refuse
        # (method, path pattern, limit): the few routes that take files, each with its own limit
        self.larger = larger

    def limit_of(self, scope) -> int:
        for method, pattern, max_bytes in self.larger:
            if scope["method"] == method and pattern.fullmatch(scope["path"]):
                return max_bytes
        return self.max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit_of(scope)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await self._refuse(scope, send)
            return
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: the app sees it on its first receive
                break
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > max_bytes:
                await self._refuse(scope, send)
                return
            if not message.get("more_body", False):
                message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return message

        await self.app(scope, replay, send)

    async def _refuse(self, scope, send):
        if self.on_refuse is not None:
            await self.on_refuse(scope)
        payload = json.dumps({"status": 413, "title": "payload too large", "errors": [
            {"field": "body", "rule": "max_size", "message": f"request body exceeds {self.limit_of(scope)} bytes"}]}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


class AttemptLimiter:
    """Failed attempts per client in a sliding window (in this process): past `max_failures`, refuse.

    For public checks such as certificate verification: a wrong guess costs an attempt, a right answer nothing.
    Bounded memory: at most `max_clients` clients are tracked, the longest quiet forgotten first."""

    def __init__(self, *, max_failures: int = 20, window_seconds: float = 600.0, max_clients: int = 10_000):
        self.max_failures, self.window, self.max_clients = max_failures, window_seconds, max_clients
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> list[float]:
        times = [at for at in self._failures.get(client, []) if now - at < self.window]
        if times:
            self._failures[client] = times
        else:
            self._failures.pop(client, None)
        return times

    def blocked(self, client: str) -> bool:
        with self._lock:
            return len(self._recent(client, time.monotonic())) >= self.max_failures

    def failed(self, client: str) -> bool:
        """Count a failure; True when it is the one that reaches the limit (audited once per window)."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(client, now)
            times.append(now)
            self._failures.pop(client, None)
            self._failures[client] = times  # last in order: the longest quiet client is first
            if len(self._failures) > self.max_clients:
                del self._failures[next(iter(self._failures))]
            return len(times) == self.max_failures
