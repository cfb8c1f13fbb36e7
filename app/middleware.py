"""Pure ASGI middleware: refuse oversized request bodies with a 413 problem."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PROBLEM_MEDIA_TYPE, problem


class BodySizeLimit:
    """Reject bodies over ``limit`` bytes (``large_limit`` for paths in ``large_paths``).

    A declared Content-Length over the limit is refused before reading; a
    chunked body is counted as it streams and cut off when it passes the limit.
    """

    def __init__(self, app: ASGIApp, limit: int, large_limit: int, large_paths: tuple[str, ...] = ()):
        self.app = app
        self.limit = limit
        self.large_limit = large_limit
        self.large_paths = large_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.large_limit if scope["path"] in self.large_paths else self.limit
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = limit + 1
                if declared > limit:
                    await self._refuse(send, limit)
                    return
        received = 0
        refused = False
        response_started = False

        async def counting_receive() -> Message:
            # Past the limit: answer 413 ourselves and tell the app the client left,
            # so it stops reading; whatever it answers then is dropped.
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit and not response_started:
                    refused = True
                    await self._refuse(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if refused:
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)

    @staticmethod
    async def _refuse(send: Send, limit: int) -> None:
        body = json.dumps(
            problem(413, "payload-too-large", "Payload too large", f"the request body is larger than {limit} bytes")
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
