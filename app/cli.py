"""The ``caravan`` command: serve, migrate, seed the demo, create organisations."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from app.config import get_settings

ROOT = Path(__file__).resolve().parent.parent


def _project_root() -> Path:
    """Where alembic.ini and migrations/ live: beside the package, or (installed) the working directory."""
    for candidate in (ROOT, Path.cwd()):
        if (candidate / "alembic.ini").is_file() and (candidate / "migrations").is_dir():
            return candidate
    raise SystemExit("alembic.ini and migrations/ not found; run from the project directory")


def migrate(database_url: str | None = None) -> None:
    """Apply every Alembic migration to the configured database."""
    from alembic import command
    from alembic.config import Config

    settings = get_settings()
    url = database_url or settings.database_url
    _ensure_sqlite_dir(url)
    root = _project_root()
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))
    config.attributes["database_url"] = url
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite") and ":///" in url:
        path = url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


async def _with_session(fn):
    from app.db import make_engine, make_sessionmaker

    settings = get_settings()
    engine = make_engine(settings.async_database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            result = await fn(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


def cmd_create_org(args: argparse.Namespace) -> int:
    from app.accounts import service
    from app.accounts.schemas import ALL_SCOPES, EXPORTER_SCOPES, Role, Scope

    role = Role(args.role)
    scopes = [Scope(s) for s in args.scopes.split(",")] if args.scopes else list(
        ALL_SCOPES if role is Role.OPERATOR else EXPORTER_SCOPES
    )

    async def run(session):
        org = await service.create_organization(session, args.name, role)
        _, key = await service.create_api_key(session, org, scopes, "created by caravan admin")
        return org, key

    migrate()
    org, key = asyncio.run(_with_session(run))
    print(f"organisation {org.id} ({org.name}, {org.role})")
    print(f"API key (shown once): {key}")
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    migrate()
    _seed_demo(args.fresh_keys)
    return 0


def _seed_demo(fresh_keys: bool) -> None:
    """Seed the demo; print the keys minted, or say how to get fresh ones when the demo was seeded before."""
    from app.demo import seed_demo

    keys = asyncio.run(_with_session(lambda session: seed_demo(session, fresh_keys=fresh_keys)))
    if not keys:
        print("The demo is already seeded in this database: its keys were printed when it was first seeded, "
              "and they still work.\nFor fresh demo keys (the earlier ones revoked): "
              "`caravan seed-demo --fresh-keys` (or `make demo-keys`).", flush=True)
        return
    print("Demo API keys (shown once" + ("; the earlier demo keys are revoked" if fresh_keys else "") + "):")
    for who, key in keys.items():
        print(f"  {who:<10} {key}")


def cmd_migrate(args: argparse.Namespace) -> int:
    migrate()
    print("database is at the latest migration")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from app.server import serve

    # The embedded default delivers webhooks from the API process itself.
    if args.no_worker:
        os.environ["CARAVAN_WEBHOOK_WORKER"] = "false"
    os.environ.setdefault("CARAVAN_WEBHOOK_WORKER", "true")
    if args.demo:  # the demo takes an http receiver (https is required otherwise)
        os.environ.setdefault("CARAVAN_WEBHOOK_REQUIRE_HTTPS", "false")
    get_settings.cache_clear()
    migrate()
    if args.demo:
        _seed_demo(fresh_keys=False)
    print(f"Caravan on http://{args.host}:{args.port}  (docs: http://{args.host}:{args.port}/docs)", flush=True)
    serve(args.host, args.port, args.workers, log_level=args.log_level, access_log=args.log_level == "debug")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    """Plan one instance file; the plan goes to standard output, errors to standard error."""
    from app import planner

    return _solve_file("plan", args, planner.PlannerInputError, planner.instance_from_dict, planner.solve,
                       planner.plan_to_dict)


def cmd_stuff(args: argparse.Namespace) -> int:
    """Stuff one instance file; the plan goes to standard output, errors to standard error."""
    from app import stuffing

    return _solve_file("stuff", args, stuffing.StuffingInputError, stuffing.instance_from_dict, stuffing.solve,
                       stuffing.plan_to_dict)


def _solve_file(command: str, args: argparse.Namespace, input_error: type[Exception], read: Any, solve: Any,
                write: Any) -> int:
    """Read ``args.instance`` as JSON, solve it within ``args.time_limit`` and print the plan; 2 on a bad file."""
    import json

    try:
        with open(args.instance, encoding="utf-8") as handle:
            document = json.load(handle)
        instance = read(document)
    except (OSError, ValueError) as error:
        if isinstance(error, input_error):
            print(f"caravan {command}: invalid instance: {error.field}: {error.message}", file=sys.stderr)
        else:
            print(f"caravan {command}: cannot read {args.instance}: {error}", file=sys.stderr)
        return 2
    json.dump(write(solve(instance, time_limit_s=args.time_limit)), sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Deliver webhooks until SIGINT/SIGTERM; run as many as you like (rows are claimed, never shared)."""
    import signal

    from app.db import make_engine, make_sessionmaker
    from app.webhooks.worker import Worker

    settings = get_settings()

    async def run() -> None:
        engine = make_engine(settings.async_database_url, pool_size=max(2, settings.webhook_concurrency))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await Worker(make_sessionmaker(engine), settings).run(stop)
        finally:
            await engine.dispose()

    print("caravan worker: delivering webhooks", flush=True)
    asyncio.run(run())
    return 0


def cmd_secret_key(_args: argparse.Namespace) -> int:
    import base64
    import secrets

    print(base64.b64encode(secrets.token_bytes(32)).decode())
    return 0


def cmd_reseal_secrets(args: argparse.Namespace) -> int:
    """Seal every webhook secret with the current key, so the previous keys can be dropped.

    Runs beside the API and the workers (rows are written compare-and-set). Exit 1 when
    some secret opened with no configured key (keep the previous keys until it is sorted out).
    """
    from app.db import make_engine, make_sessionmaker
    from app.webhooks import signing

    settings = get_settings()
    if not settings.webhook_secret_key:
        print("caravan admin reseal-secrets: CARAVAN_WEBHOOK_SECRET_KEY is not set: nothing to seal with "
              "(make one with `caravan admin secret-key`)", file=sys.stderr)
        return 2

    async def run() -> signing.ResealCounts:
        engine = make_engine(settings.async_database_url)
        try:
            return await signing.reseal_secrets(make_sessionmaker(engine), settings.webhook_secret_key,
                                                settings.previous_secret_keys, args.batch_size)
        finally:
            await engine.dispose()

    counts = asyncio.run(run())
    print(f"resealed {counts.resealed} webhook secrets with key {signing.key_id(settings.webhook_secret_key)}; "
          f"skipped {counts.current} already sealed with it and {counts.changed} changed meanwhile")
    if counts.unopened:
        shown = ", ".join(map(str, counts.unopened[:20])) + (" …" if len(counts.unopened) > 20 else "")
        print(f"caravan admin reseal-secrets: no configured key opens the secret of {len(counts.unopened)} "
              f"subscriptions ({shown}); keep CARAVAN_WEBHOOK_SECRET_KEYS_PREVIOUS until they are resealed",
              file=sys.stderr)
        return 1
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="caravan", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="apply migrations and run the API")
    serve.add_argument("--host", default=os.environ.get("CARAVAN_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("CARAVAN_PORT", "8000")))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("CARAVAN_WORKERS", "1")),
                       help="API processes, each with its own listening socket (SO_REUSEPORT)")
    serve.add_argument("--demo", action="store_true",
                       help="seed the demo network (once) and print its keys (on the first start only)")
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--no-worker", action="store_true", help="do not deliver webhooks from this process")
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("worker", help="deliver webhooks from the outbox").set_defaults(func=cmd_worker)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    seed = sub.add_parser("seed-demo", help="seed the demo network and its organisations, printing their keys once")
    seed.add_argument("--fresh-keys", action="store_true",
                      help="revoke the demo organisations' earlier demo keys and print new ones")
    seed.set_defaults(func=cmd_seed_demo)

    plan = sub.add_parser("plan", help="plan a FORMAT.md instance file and print the plan")
    plan.add_argument("instance", help="path to the instance JSON")
    plan.add_argument("--time-limit", type=float, default=None, help="seconds for the improvement phase")
    plan.set_defaults(func=cmd_plan)

    stuff = sub.add_parser("stuff", help="stuff a container: a stuffing instance file in, a 3D plan out")
    stuff.add_argument("instance", help="path to the stuffing instance JSON")
    stuff.add_argument("--time-limit", type=float, default=None, help="solver budget in seconds (default 5)")
    stuff.set_defaults(func=cmd_stuff)

    admin = sub.add_parser("admin", help="administration")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    create_org = admin_sub.add_parser("create-org", help="create an organisation and print an API key")
    create_org.add_argument("--name", required=True)
    create_org.add_argument("--role", required=True, choices=["operator", "exporter"])
    create_org.add_argument("--scopes", help="comma-separated; default: every scope the role may hold")
    create_org.set_defaults(func=cmd_create_org)
    admin_sub.add_parser(
        "secret-key", help="print a new CARAVAN_WEBHOOK_SECRET_KEY (webhook secrets are then stored sealed)"
    ).set_defaults(func=cmd_secret_key)
    reseal = admin_sub.add_parser(
        "reseal-secrets", help="seal every webhook secret with CARAVAN_WEBHOOK_SECRET_KEY (then drop the previous keys)"
    )
    reseal.add_argument("--batch-size", type=_positive_int, default=500, help="rows read and written per transaction")
    reseal.set_defaults(func=cmd_reseal_secrets)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
