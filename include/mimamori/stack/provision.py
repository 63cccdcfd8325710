"""Provision an existing PostgreSQL server for mimamori (roles, databases, schemas, grants).

Used by docker-compose's one-shot `mimamori-init` service and by IT pointing mimamori at a
server of their own: ``MIMAMORI_PG_HOST=db MIMAMORI_PG_PORT=5432 python -m mimamori.stack.provision``.
The superuser password comes from MIMAMORI_PG_PASSWORD; every role password from .env.
"""

from __future__ import annotations

import subprocess
import sys

from mimamori.settings import get_settings
from mimamori.stack import pg


def main() -> int:
    settings = get_settings()
    pg.provision(settings)
    print(f"provisioned roles and databases on {settings.pg_host}:{settings.pg_port}")
    if "--no-airflow" not in sys.argv:
        subprocess.run(["airflow", "db", "migrate"], check=True)
        # Airflow's login (FAB auth manager): user admin with MIMAMORI_AIRFLOW_ADMIN_PASSWORD
        from mimamori.stack.airflow import ADMIN_USER, upsert_admin_in_process

        if not settings.airflow_admin_password:
            raise SystemExit("MIMAMORI_AIRFLOW_ADMIN_PASSWORD is empty: run `make env` to generate .env")
        domain = settings.mail_from.partition("@")[2] or "localhost"
        outcome = upsert_admin_in_process(settings.airflow_admin_password, f"airflow-admin@{domain}")
        print(f"airflow user {ADMIN_USER}: {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
