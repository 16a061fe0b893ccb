# Production image for the API and the workers. The same image runs
#   kontor serve --no-demo --no-projectors --workers N --host 0.0.0.0   (API)
#   kontor project                                                       (projectors)
#   kontor migrate                                                       (schema, one-shot)
# The dashboard's front-end libraries, from npm at build time (package-lock.json; no CDN).
FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm run vendor

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

RUN pip install --no-cache-dir "uv==0.13.9"

WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project

COPY domain/ domain/
COPY application/ application/
COPY adapters/ adapters/
COPY projections/ projections/
COPY interfaces/ interfaces/
COPY --from=assets /build/interfaces/web/static/vendor/ interfaces/web/static/vendor/
RUN uv sync --locked --no-dev

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin kontor \
    && mkdir -p /var/lib/kontor \
    && chown kontor:kontor /var/lib/kontor

USER kontor

ENV PATH=/app/.venv/bin:$PATH \
    KONTOR_DATA_DIR=/var/lib/kontor \
    KONTOR_HOST=0.0.0.0 \
    KONTOR_PORT=8000

EXPOSE 8000

CMD ["kontor", "serve", "--no-demo", "--no-projectors", "--workers", "2", "--host", "0.0.0.0"]
