# The opstats API: `opstats serve` on 0.0.0.0:8000 (migrates and seeds an empty database first).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# The pinned, hashed dependencies first (a layer kept until the lock changes), then the app alone.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
COPY seeds ./seeds
RUN pip install --no-cache-dir --no-deps . && useradd --system --uid 10001 opstats
ENV SEEDS_DIR=/app/seeds MIGRATIONS_DIR=/app/migrations
USER opstats
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=6 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status != 200)"
STOPSIGNAL SIGTERM
CMD ["opstats", "serve", "--host", "0.0.0.0", "--port", "8000"]
