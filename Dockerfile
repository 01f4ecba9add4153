FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY requirements/runtime.txt requirements/runtime.txt
RUN python -m pip install --require-hashes -r requirements/runtime.txt

COPY pyproject.toml README.md ./
COPY events events
COPY services services
COPY adapters adapters
COPY projections projections
COPY config config
RUN python -m pip install --no-deps . \
    && useradd --system --uid 10001 hub && mkdir -p /app/var && chown hub /app/var
USER hub

ENV HUB_LOG_FORMAT=json
ENTRYPOINT []
EXPOSE 8000
CMD ["signaalhub", "serve", "--host", "0.0.0.0"]
