# Production image: gunicorn web, Celery worker and beat share it (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=veterans_portal.settings.production \
    STATIC_ROOT=/app/var/staticfiles MEDIA_ROOT=/app/var/media

# WeasyPrint needs Pango; gettext compiles the translations.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 gettext \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 portal

WORKDIR /app
# Runtime packages only: no test, bench or lint tools in the image (those are in requirements-dev.lock).
COPY requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
RUN SECRET_KEY=build-only FIELD_ENCRYPTION_KEY=build-only DATABASE_URL=postgres://build@localhost/build \
    python manage.py collectstatic --noinput \
 && python manage.py compilemessages -l zh_Hans --ignore=.venv \
 && mkdir -p /app/var/media && chown -R portal:portal /app/var

USER portal
EXPOSE 8000
CMD ["gunicorn", "veterans_portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
