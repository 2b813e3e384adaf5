# The API on the embedded SQLite default; set DATABASE_URL for PostgreSQL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    SEEDS_DIR=/srv/opstats/seeds MIGRATIONS_DIR=/srv/opstats/migrations \
    DATABASE_URL=sqlite:////data/opstats.db

WORKDIR /srv/opstats
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
COPY seeds ./seeds
RUN pip install --no-cache-dir . && mkdir -p /data

VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz')"
CMD ["opstats", "serve", "--host", "0.0.0.0", "--port", "8000"]
