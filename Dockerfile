# trackd: an MLflow-compatible tracking server.
#
#   docker build -t trackd .
#   docker run -p 5000:5000 -v trackd-data:/data trackd
#
# Configured only through the environment, with MLflow's variable names:
#   MLFLOW_BACKEND_STORE_URI        (default sqlite:////data/mlflow.db)
#   MLFLOW_DEFAULT_ARTIFACTORY_ROOT / MLFLOW_DEFAULT_ARTIFACT_ROOT
#   MLFLOW_ARTIFACTS_DESTINATION    (default /data/mlartifacts)
#   MLFLOW_SERVE_ARTIFACTS, MLFLOW_STATIC_PREFIX, MLFLOW_WORKERS, MLFLOW_HOST, MLFLOW_PORT
#   TRACKD_AUTH=true + MLFLOW_AUTH_CONFIG_PATH / MLFLOW_AUTH_ADMIN_PASSWORD  (users, permissions)
#   TRACKD_SSL_CERTFILE + TRACKD_SSL_KEYFILE (HTTPS), TRACKD_ACCESS_LOG_FORMAT=json
# See docs/operations.md.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

# -- 1. the web UI's npm libraries (pinned by package-lock.json) ------------------------------
FROM ${NODE_IMAGE} AS ui
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
 && mkdir -p vendor \
 && cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css vendor/ \
 && cp node_modules/uplot/LICENSE vendor/uPlot.LICENSE

# -- 2. the wheel ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml setup.py README.md package-lock.json ./
COPY src ./src
COPY --from=ui /src/vendor ./src/trackd/web/static/vendor
# Newer than the lockfile, so setup.py uses these files instead of running npm again.
RUN touch src/trackd/web/static/vendor/* \
 && pip wheel --no-cache-dir --wheel-dir /wheels .

# -- 3. the runtime image -------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MLFLOW_HOST=0.0.0.0 \
    MLFLOW_PORT=5000 \
    MLFLOW_BACKEND_STORE_URI=sqlite:////data/mlflow.db \
    MLFLOW_ARTIFACTS_DESTINATION=/data/mlartifacts
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl \
 && rm -rf /wheels \
 && groupadd --system --gid 10001 trackd \
 && useradd --system --uid 10001 --gid trackd --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin trackd \
 && mkdir -p /data \
 && chown trackd:trackd /data
WORKDIR /data
VOLUME ["/data"]
USER 10001:10001
EXPOSE 5000
# Follows MLFLOW_PORT, MLFLOW_STATIC_PREFIX and HTTPS; /health never needs credentials.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, ssl, urllib.request as u; s = 'https' if os.environ.get('TRACKD_SSL_CERTFILE') else 'http'; p = os.environ.get('MLFLOW_STATIC_PREFIX', '').rstrip('/'); u.urlopen(f\"{s}://127.0.0.1:{os.environ.get('MLFLOW_PORT', '5000')}{p}/health\", timeout=4, context=ssl._create_unverified_context())"]
ENTRYPOINT ["trackd"]
CMD ["server"]
