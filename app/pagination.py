"""Cursor pagination: ``?limit=`` (1-100) and an opaque, signed ``?cursor=``; ordered by id."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from app.config import get_settings
from app.errors import Unprocessable
from app.fields import MAX_ID

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=100, description="Page size, 1-100.")]
Cursor = Annotated[str | None, Query(max_length=64, description="Opaque cursor from `next_cursor`.")]


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` back to get the next."""

    items: list[T]
    next_cursor: str | None


# A cursor is base64url of: a version byte, the id after which the page starts (8 bytes) and
# the first 12 bytes of HMAC-SHA256(the server's cursor key, version + list + id). The list
# (``scope``) is signed in: a cursor of one list is refused by another, like a tampered one.
_VERSION = 1
_MAC_BYTES = 12
DEFAULT_SCOPE = "list"


def _mac(key: bytes, scope: str, raw: bytes) -> bytes:
    return hmac.new(key, scope.encode() + b"\0" + raw, hashlib.sha256).digest()[:_MAC_BYTES]


def encode_cursor(last_id: int, scope: str = DEFAULT_SCOPE, *, key: bytes | None = None) -> str:
    raw = struct.pack(">BQ", _VERSION, last_id)
    mac = _mac(get_settings().cursor_key if key is None else key, scope, raw)
    return base64.urlsafe_b64encode(raw + mac).decode().rstrip("=")


def decode_cursor(cursor: str | None, scope: str = DEFAULT_SCOPE) -> int:
    """The id after which the page starts (0 for the first page); 422 on ``cursor`` for one this
    server did not sign for this list (made up, altered, from another list or another server)."""
    if not cursor:
        return 0
    try:
        blob = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        if len(blob) != 9 + _MAC_BYTES:
            raise ValueError
        raw, mac = blob[:9], blob[9:]
        version, last_id = struct.unpack(">BQ", raw)
        good = hmac.compare_digest(mac, _mac(get_settings().cursor_key, scope, raw))
        if not good or version != _VERSION or not 0 <= last_id <= MAX_ID:
            raise ValueError
    except (ValueError, binascii.Error):
        raise Unprocessable("cursor", "not a cursor returned by this list") from None
    return last_id


def page_of(
    items: list, limit: int, key=lambda item: item.id, scope: str = DEFAULT_SCOPE
) -> tuple[list, str | None]:
    """Split a fetch of ``limit + 1`` rows into the page and the next cursor."""
    if len(items) > limit:
        items = items[:limit]
        return items, encode_cursor(key(items[-1]), scope)
    return items, None
