# JJP application image: web (gunicorn), Celery worker and beat, migrations (see docker-compose.yml).

# Front-end packages (GOV.UK Frontend, MOJ Frontend) from the npm registry, as package-lock.json pins them.
FROM node:20-slim AS frontend
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app

# Dependencies first, for layer caching. requirements.lock is pip-compiled from pyproject.toml.
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY . .
COPY --from=frontend /app/node_modules ./node_modules

# Static files are collected at build time; the dummy values only let settings load.
RUN DJANGO_SECRET_KEY=build-only-dummy-secret \
    DATABASE_URL=postgres://build@127.0.0.1:5432/build \
    REDIS_URL=redis://127.0.0.1:6379/0 \
    python manage.py collectstatic --noinput -v0

RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin jjp
USER jjp

EXPOSE 8000
CMD ["gunicorn", "jjp.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
