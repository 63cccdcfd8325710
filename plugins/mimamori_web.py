"""Airflow plugin: security headers and a login rate limit on every response of the API server.

Thin wiring only; the middleware is ``mimamori.webguard.AirflowGuard`` (tested there). Loaded
from ``AIRFLOW__CORE__PLUGINS_FOLDER`` (this folder), set by ``mimamori.stack.airflow.env``.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from mimamori.webguard import AirflowGuard


class MimamoriWebPlugin(AirflowPlugin):
    name = "mimamori_web"
    fastapi_root_middlewares = [{"name": "mimamori_guard", "middleware": AirflowGuard, "args": [], "kwargs": {}}]
