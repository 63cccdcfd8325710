"""Provision an existing PostgreSQL server for mimamori (roles, databases, schemas, grants).

Used by docker-compose's one-shot `mimamori-init` service and by IT pointing mimamori at a
server of their own: ``MIMAMORI_PG_HOST=db MIMAMORI_PG_PORT=5432 bin/mimamori stack.provision``.
The superuser password comes from MIMAMORI_PG_PASSWORD; every role password from .env.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from mimamori.settings import get_settings
from mimamori.stack import pg


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bin/mimamori stack.provision",
        description="既存の PostgreSQL にロール・データベース・スキーマ・権限を作成します（何度実行しても同じ結果）。"
        " Connects as MIMAMORI_PG_SUPERUSER to MIMAMORI_PG_HOST:MIMAMORI_PG_PORT (from .env).",
    )
    parser.add_argument(
        "--no-airflow", action="store_true", help="Airflow のメタデータ移行と管理ユーザー作成を行わない"
    )
    args = parser.parse_args(argv)
    settings = get_settings()
    pg.provision(settings)
    print(f"provisioned roles and databases on {settings.pg_host}:{settings.pg_port}")
    if not args.no_airflow:
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
