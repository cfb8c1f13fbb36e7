"""A webhook receiver for tests: a tiny ASGI app that verifies Standard Webhooks signatures,
processes each webhook-id once, and can be told to fail, answer 410, or be slow."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
from collections import Counter


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(f"v1,{expected}", sig) for sig in headers["webhook-signature"].split())


class Receiver:
    """ASGI app. ``fail_first``: answer 500 to the first N tries of each webhook-id; ``gone``: answer 410."""

    def __init__(self, fail_first: int = 0, delay_s: float = 0.0, gone: bool = False) -> None:
        self.secret = ""
        self.fail_first = fail_first
        self.delay_s = delay_s
        self.gone = gone
        self.lock = threading.Lock()
        self.tries: Counter[str] = Counter()
        self.processed: dict[str, dict] = {}
        self.processed_count: Counter[str] = Counter()
        self.accepted: Counter[str] = Counter()  # 2xx answers per id, repeats included
        self.bad_signatures = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the sender died mid-request (a killed worker): nothing arrived, nothing to verify
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        if scope["method"] == "GET":  # liveness
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        status, answer = self._handle(headers, body)
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": answer})

    def _handle(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        with self.lock:
            if not verify(self.secret, headers, body):
                self.bad_signatures += 1
                return 401, b"bad signature"
            webhook_id = headers["webhook-id"]
            self.tries[webhook_id] += 1
            if self.gone:
                return 410, b"gone"
            if self.tries[webhook_id] <= self.fail_first:
                return 500, b"try again later " + b"x" * 5000
            self.accepted[webhook_id] += 1
            if webhook_id not in self.processed:  # idempotent on webhook-id
                self.processed[webhook_id] = json.loads(body)
                self.processed_count[webhook_id] += 1
            return 200, b"ok"


def app_from_env() -> Receiver:
    """uvicorn --factory entry point (bench): the secret comes from RECEIVER_SECRET."""
    import os

    receiver = Receiver()
    receiver.secret = os.environ["RECEIVER_SECRET"]
    return receiver
