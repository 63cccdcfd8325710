# Airflow 3.3 + the mimamori package, dbt in its own virtualenv (as in the local stack).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=0 UV_COMPILE_BYTECODE=1 PYTHONPATH=/opt/mimamori/include \
    AIRFLOW_HOME=/opt/mimamori/state/airflow
RUN pip install --no-cache-dir uv==0.13.9
COPY requirements/ /opt/mimamori/requirements/
RUN uv pip sync --system /opt/mimamori/requirements/airflow.lock \
 && uv venv /opt/mimamori/.local/venv/dbt \
 && VIRTUAL_ENV=/opt/mimamori/.local/venv/dbt uv pip sync /opt/mimamori/requirements/dbt.lock
COPY include/ /opt/mimamori/include/
COPY dags/ /opt/mimamori/dags/
COPY plugins/ /opt/mimamori/plugins/
COPY dbt_project/ /opt/mimamori/dbt_project/
COPY expectations/ /opt/mimamori/expectations/
WORKDIR /opt/mimamori
ENV MIMAMORI_ROOT=/opt/mimamori
ENTRYPOINT ["airflow"]
