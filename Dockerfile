# Caravan API image: slim Python 3.11, non-root, migrations applied at start, then the API processes.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv/caravan
RUN groupadd --system caravan && useradd --system --gid caravan --home-dir /srv/caravan caravan

COPY pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
COPY alembic.ini ./
RUN pip install . && mkdir -p /srv/caravan/var && chown -R caravan:caravan /srv/caravan/var

USER caravan
EXPOSE 8000
# Production points CARAVAN_DATABASE_URL at PostgreSQL, e.g.
#   postgresql://caravan:secret@db:5432/caravan
ENV CARAVAN_DATABASE_URL=sqlite+aiosqlite:////srv/caravan/var/caravan.db \
    CARAVAN_HOST=0.0.0.0 \
    CARAVAN_PORT=8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
# `caravan serve` applies migrations, then runs CARAVAN_WORKERS API processes, each
# accepting on its own SO_REUSEPORT socket; webhooks go out from `caravan worker`.
ENV CARAVAN_WORKERS=2
CMD ["caravan", "serve", "--no-worker"]
