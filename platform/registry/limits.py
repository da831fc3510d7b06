"""Refuse oversized bodies before they are read into memory."""
import json


class BodySizeLimit:
    """Pure ASGI middleware: 413 past max_bytes, whether or not Content-Length was sent."""

    def __init__(self, app, max_bytes: int, on_refuse=None):
        self.app, self.max_bytes, self.on_refuse = app, max_bytes, on_refuse

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        seen = 0

        async def counting_receive():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _TooLarge:
            await self._refuse(scope, send)

    async def _refuse(self, scope, send):
        if self.on_refuse is not None:
            await self.on_refuse(scope)
        payload = json.dumps({"status": 413, "title": "payload too large", "errors": [
            {"field": "body", "rule": "max_size", "message": f"request body exceeds {self.max_bytes} bytes"}]}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


class _TooLarge(Exception):
    pass
