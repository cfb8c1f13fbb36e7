"""create_app(): routers, error handlers, middleware, lifespan."""

from __future__ import annotations

import gc
import logging
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.accounts.dependencies import authenticate_first, unparseable_body
from app.accounts.router import router as accounts_router
from app.bookings.router import emissions_router
from app.bookings.router import router as bookings_router
from app.config import Settings, get_settings
from app.console import console_error, install_console, is_console
from app.consolidation.router import router as consolidation_router
from app.consolidation.warm import warm as warm_space
from app.db import make_engine, make_sessionmaker
from app.dcsa.router import not_routed as dcsa_not_routed
from app.dcsa.router import router as dcsa_router
from app.dcsa_booking.router import not_routed as dcsa_booking_not_routed
from app.dcsa_booking.router import router as dcsa_booking_router
from app.docs import install_docs
from app.errors import PROBLEM_MEDIA_TYPE, AppError, FieldError, Problem, problem
from app.idempotency import IdempotencyMiddleware
from app.middleware import BodySizeLimit
from app.network.router import router as network_router
from app.papers.router import router as papers_router
from app.overload import Admission, overload_problem
from app.ratelimit import RateLimiter, RateLimitHeaders
from app.routing.router import router as routing_router
from app.stuffing_api import router as stuffing_router
from app.tracking.router import router as tracking_router
from app.webhooks.router import router as webhooks_router
from app.webhooks.signing import RESPONSE_CONTEXT, seal, unseal
from app.webhooks.worker import start_embedded_worker

log = logging.getLogger("caravan")

API_DESCRIPTION = """Booking and consolidation service for China–Europe rail LCL freight.

Authenticate with an API key: `Authorization: Bearer cvn_…` (the *Authorize* button). Every
error is `application/problem+json` (RFC 9457) with `errors: [{field, message}]` naming the
fields. A POST may carry an `Idempotency-Key` to be retried safely.

The DCSA Track & Trace 2.2 API that Caravan also serves, under `/dcsa/tnt/v2`, has its own
document: [/dcsa/tnt/v2/openapi.json](/dcsa/tnt/v2/openapi.json), shown at
[/dcsa/tnt/v2/docs](/dcsa/tnt/v2/docs). This reference is also at [/redoc](/redoc)."""


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": text}
    for code, text in {
        400: "Bad request",
        401: "Missing, unknown or revoked API key",
        403: "The key lacks the scope or role",
        404: "Not found, or not yours",
        409: "Conflicts with the current state",
        413: "Request body too large",
        422: "Invalid input; `errors` names the fields",
        429: "Over the API key's rate limit (per API process), or too many failed authentications "
             "from this address; nothing was done",
    }.items()
}
_SECONDS = {"type": "integer", "minimum": 0}
PROBLEM_RESPONSES[429]["headers"] = {
    "Retry-After": {"description": "Whole seconds to wait before retrying (at least 1)",
                    "schema": {"type": "integer", "minimum": 1}},
    "RateLimit-Limit": {"description": "The key's burst: requests it may make at once "
                        "(draft-ietf-httpapi-ratelimit-headers-06; on every authenticated response)",
                        "schema": {"type": "integer", "minimum": 1}},
    "RateLimit-Remaining": {"description": "Requests the key may make now", "schema": _SECONDS},
    "RateLimit-Reset": {"description": "Seconds until the key's full burst is available again", "schema": _SECONDS},
}
PROBLEM_RESPONSES[503] = {
    "model": Problem,
    "description": "The server is at capacity (or found no database connection in time); nothing was done",
    "headers": {"Retry-After": {"description": "Whole seconds to wait before retrying",
                                "schema": {"type": "integer", "minimum": 1}}},
}


IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Retry safely: the same key and body within 24 h replays the first response; "
    "a different body is 422; while the first is still running, 409. Scoped to the API key.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


def _problem_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] or parts
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Response:
        if is_console(request):
            return await console_error(request, exc)
        return _problem_response(exc.status, exc.to_problem(request.url.path), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        if is_console(request):
            return await console_error(request, exc)
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            # FastAPI parses a JSON body before it authenticates: who is asking comes first.
            if (error := await authenticate_first(request)) is not None:
                return _problem_response(error.status, error.to_problem(request.url.path), error.headers)
        errors = [
            # A JSON syntax error's location is a character offset, not a field: name the body.
            FieldError("body" if e.get("type") == "json_invalid" else _field_name(tuple(e.get("loc", ()))),
                       str(e.get("msg", "invalid")))
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
        return _problem_response(
            422, problem(422, "validation-error", "Invalid input", detail, errors, request.url.path)
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if is_console(request):
            return await console_error(request, exc)
        if request.url.path.startswith("/dcsa/bkg/"):
            return await dcsa_booking_not_routed(request, exc)  # the Booking 2.0 ErrorResponse shape
        if request.url.path.startswith("/dcsa/"):
            return await dcsa_not_routed(request, exc)  # the DCSA shape for anything under /dcsa/
        if (why := unparseable_body(exc)) is not None:
            # A body too deep, not UTF-8 or with a number over the digit limit: authenticate first,
            # then name the body, as for malformed JSON (FastAPI's own answer is a bare 400).
            if (error := await authenticate_first(request)) is not None:
                return _problem_response(error.status, error.to_problem(request.url.path), error.headers)
            return _problem_response(422, problem(422, "validation-error", "Invalid input", f"body: {why}",
                                                  [FieldError("body", why)], request.url.path))
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        return _problem_response(
            exc.status_code,
            problem(exc.status_code, title.lower().replace(" ", "-"), title, str(exc.detail), None, request.url.path),
            getattr(exc, "headers", None),
        )

    @app.exception_handler(PoolTimeout)
    async def _pool_timeout(request: Request, exc: PoolTimeout) -> Response:
        body, headers = overload_problem("no database connection came free in time; retry shortly")
        return Response(body, status_code=503, headers={k.decode(): v.decode() for k, v in headers if k != b"content-length"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if is_console(request):
            return await console_error(request, exc)
        return _problem_response(
            500, problem(500, "internal-error", "Internal error", "an unexpected error occurred; it has been logged")
        )


def _openapi_with_problem_media(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with error responses declared as application/problem+json."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if method == "post":
                operation.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status.startswith(("4", "5")) and "application/json" in content:
                    response["content"] = {PROBLEM_MEDIA_TYPE: content["application/json"]}
    schema.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key: cvn_…",
    }
    schema["security"] = [{"bearer": []}]
    app.openapi_schema = schema
    return schema


def _response_sealing(settings: Settings) -> dict[str, Any]:
    """Responses kept for Idempotency-Key replays are stored sealed when a sealing key is configured
    (a new subscription's answer holds its signing secret) and opened with the current or a previous
    key; a sealed one with no key that opens it is not replayed."""
    key, previous = settings.webhook_secret_key, settings.previous_secret_keys
    return {
        "seal_body": lambda text: seal(text, key, RESPONSE_CONTEXT),
        "open_body": lambda text: unseal(text, key, previous, RESPONSE_CONTEXT),
    }


def _freeze_startup_objects() -> None:
    """Keep what startup built out of the garbage collector's full collections.

    The modules, SQLAlchemy mappers, Pydantic schemas and routes live as long as the
    process: about 160,000 objects, which every full collection walked again
    (95 ms measured), stalling every request in flight on that process. Frozen, they
    are skipped; objects made while serving are collected as before.
    """
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = make_engine(settings.async_database_url, pool_size=settings.db_pool_size, echo=settings.sql_echo,
                         pool_timeout_s=settings.db_pool_timeout_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        worker = start_embedded_worker(app) if settings.webhook_worker else None
        if settings.space_warm_min_bookings:
            await warm_space(app.state.sessionmaker, settings.space_warm_min_bookings, settings.space_warm_budget_s)
        _freeze_startup_objects()
        yield
        if worker:
            await worker.stop()
        await engine.dispose()

    app = FastAPI(
        title="Caravan",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by install_docs, from this process rather than a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    # Shared buckets need PostgreSQL (the statement is its upsert); SQLite keeps them in memory.
    shared = engine.dialect.name == "postgresql" and settings.rate_limit_shared is not False
    app.state.rate_limiter = RateLimiter(settings, engine=engine if shared else None)

    install_error_handlers(app)
    install_docs(app)
    install_console(app)
    for router in (
        accounts_router, network_router, bookings_router, consolidation_router, tracking_router, webhooks_router,
        routing_router, dcsa_router, dcsa_booking_router, stuffing_router, papers_router, emissions_router,
    ):
        app.include_router(router, responses=PROBLEM_RESPONSES)

    @app.get("/healthz", tags=["meta"], summary="Liveness check")
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers (touches no database)."""
        return {"status": "ok"}

    app.openapi = lambda: _openapi_with_problem_media(app)  # type: ignore[method-assign]
    # Starlette wraps in reverse order: the size limit runs first, then the rate-limit
    # fields (outside idempotency, so that its replays and refusals carry them too), then idempotency.
    app.add_middleware(
        IdempotencyMiddleware,
        sessionmaker_getter=lambda scope: scope["app"].state.sessionmaker,
        rate_limiter_getter=lambda scope: scope["app"].state.rate_limiter,
        **_response_sealing(settings),
    )
    if settings.rate_limit_per_s > 0:
        app.add_middleware(RateLimitHeaders)
    app.add_middleware(Admission, limit=settings.requests_in_flight, wait_s=settings.admission_wait_s,
                       adaptive=settings.admission_adaptive)
    app.add_middleware(
        BodySizeLimit,
        limit=settings.max_body_bytes,
        large_limit=settings.max_plan_body_bytes,
        large_paths=("/v1/plan",),
    )
    return app
