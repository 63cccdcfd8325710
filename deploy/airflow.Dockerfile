# Airflow 3.3 + the mimamori package, dbt in its own virtualenv (as in the local stack).
# The GX data docs' CSS/JS/fonts from the npm lock file (docs/quality.md), copied below.
FROM node:20-bookworm-slim AS docs-assets
COPY requirements/docs-assets/package.json requirements/docs-assets/package-lock.json /assets/
RUN cd /assets && npm ci --ignore-scripts --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=0 UV_COMPILE_BYTECODE=1 PYTHONPATH=/opt/mimamori/include \
    AIRFLOW_HOME=/opt/mimamori/state/airflow
RUN pip install --no-cache-dir uv==0.13.9
COPY requirements/ /opt/mimamori/requirements/
RUN uv pip sync --system /opt/mimamori/requirements/airflow.lock \
 && uv venv /opt/mimamori/.local/venv/dbt \
 && VIRTUAL_ENV=/opt/mimamori/.local/venv/dbt uv pip sync /opt/mimamori/requirements/dbt.lock
COPY --from=docs-assets /assets/node_modules/ /opt/mimamori/.local/docs-assets/node_modules/
COPY include/ /opt/mimamori/include/
COPY dags/ /opt/mimamori/dags/
COPY plugins/ /opt/mimamori/plugins/
COPY dbt_project/ /opt/mimamori/dbt_project/
WORKDIR /opt/mimamori
ENV MIMAMORI_ROOT=/opt/mimamori
ENTRYPOINT ["airflow"]
