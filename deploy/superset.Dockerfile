# Superset 6.1 in its own environment (its pins conflict with Airflow's), config from superset/.
FROM python:3.11-slim-bookworm
ENV UV_COMPILE_BYTECODE=1 PYTHONPATH=/opt/mimamori/include
RUN pip install --no-cache-dir uv==0.13.9
COPY requirements/superset.lock /opt/mimamori/requirements/superset.lock
RUN uv pip sync --system /opt/mimamori/requirements/superset.lock
COPY superset/ /opt/mimamori/superset/
COPY include/ /opt/mimamori/include/
WORKDIR /opt/mimamori
CMD ["gunicorn", "-w", "2", "-k", "gthread", "--threads", "4", "-b", "0.0.0.0:8088", "superset.app:create_app()"]
