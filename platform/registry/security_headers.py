"""Headers every response of the registry carries, unless a route set its own: no MIME sniffing, no framing by
other sites (clickjacking), no full address sent on as a referrer."""

DEFAULTS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"))


class SecurityHeaders:
    """Pure ASGI middleware: adds each default header a response does not already have."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in DEFAULTS if name not in present]
                if extra:
                    message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
