"""Domain errors rendered as RFC 9457 ``application/problem+json``.

Services raise these; they never raise HTTPException. Each class knows its
status code and renders itself, so the edge only has to call ``to_problem``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

PROBLEM_MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True)
class FieldError:
    """One invalid field: a dotted path such as ``cargo.0.weight_kg`` and why."""

    field: str
    message: str


class AppError(Exception):
    """Base of every error the API reports on purpose."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        return problem(self.status, self.slug, self.title, self.detail, self.errors, instance)


class Unauthorized(AppError):
    """No key, or a key that is unknown or revoked."""

    status, slug, title = 401, "unauthorized", "Unauthorized"

    def __init__(self, detail: str):
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="caravan"'})


class Forbidden(AppError):
    """The key is valid but lacks the scope or role the action needs."""

    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(AppError):
    """The thing does not exist, or the caller may not know that it does."""

    status, slug, title = 404, "not-found", "Not found"

    def __init__(self, detail: str, field: str | None = None):
        super().__init__(detail, errors=[FieldError(field, detail)] if field else None)


class Conflict(AppError):
    """The request is valid but the resource's state does not allow it now."""

    status, slug, title = 409, "conflict", "Conflict"


class PreconditionFailed(AppError):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


class PayloadTooLarge(AppError):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class Unprocessable(AppError):
    """Well-formed input that breaks a rule; names the field."""

    status, slug, title = 422, "validation-error", "Invalid input"

    def __init__(self, field: str, message: str, detail: str | None = None):
        super().__init__(detail or f"{field}: {message}", errors=[FieldError(field, message)])


class PreconditionRequired(AppError):
    status, slug, title = 428, "precondition-required", "Precondition required"


class TooManyRequests(AppError):
    """Over a rate limit; ``Retry-After`` says in how many whole seconds (at least 1) to try again."""

    status, slug, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str, retry_after_s: int):
        super().__init__(f"{detail}; retry after {retry_after_s} s", headers={"Retry-After": str(retry_after_s)})
        self.retry_after_s = retry_after_s


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: list[FieldError] | None = None,
    instance: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return body


class ProblemFieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details (the schema of every error response)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[ProblemFieldError] | None = None
