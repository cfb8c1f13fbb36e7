"""Cursor pagination: ``?limit=`` (1-100) and an opaque ``?cursor=``; ordered by id."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from app.errors import Unprocessable
from app.fields import MAX_ID

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=100, description="Page size, 1-100.")]
Cursor = Annotated[str | None, Query(max_length=64, description="Opaque cursor from `next_cursor`.")]


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` back to get the next."""

    items: list[T]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The id after which the page starts (0 for the first page)."""
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = raw.partition(":")
        last_id = int(value)
        if kind != "id" or not 0 <= last_id <= MAX_ID:
            raise ValueError
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Unprocessable("cursor", "not a cursor returned by this list") from None
    return last_id


def page_of(items: list, limit: int, key=lambda item: item.id) -> tuple[list, str | None]:
    """Split a fetch of ``limit + 1`` rows into the page and the next cursor."""
    if len(items) > limit:
        items = items[:limit]
        return items, encode_cursor(key(items[-1]))
    return items, None
