"""`python -m mimamori.casescreen init-db | add-user` in a throw-away schema."""

from __future__ import annotations

import os
import subprocess
import sys

SCHEMA = "cs_test_cli"


def _run(args, settings, stdin=""):
    env = {**os.environ, "MIMAMORI_CASESCREEN_CASEWORK_SCHEMA": SCHEMA, "PYTHONPATH": str(settings.root / "include")}
    return subprocess.run(
        [sys.executable, "-m", "mimamori.casescreen", *args], input=stdin, env=env, capture_output=True, text=True
    )


def test_init_db_and_add_user(cs_config, cw_conn):
    settings = cs_config.settings
    cw_conn.execute(f"drop schema if exists {SCHEMA} cascade")
    try:
        first = _run(["init-db"], settings)
        assert first.returncode == 0, first.stderr
        assert f"{SCHEMA}.audit_log ready" in first.stdout
        assert _run(["init-db"], settings).returncode == 0  # idempotent
        owner = cw_conn.execute("select nspowner::regrole::text from pg_namespace where nspname = %s", (SCHEMA,))
        assert owner.fetchone()[0] == "transformer"

        given = _run(
            ["add-user", "sato", "--role", "caseworker", "--display-name", "佐藤"], settings, "a-long-enough-password\n"
        )
        assert given.returncode == 0, given.stderr
        assert "password" not in given.stdout  # a given password is never echoed
        made = _run(["add-user", "suzuki", "--role", "coordinator"], settings, "")
        assert made.returncode == 0 and "password (shown once): " in made.stdout
        refused = _run(["add-user", "bunseki", "--role", "analyst"], settings, "a-long-enough-password\n")
        assert refused.returncode != 0
        weak = _run(["add-user", "kato", "--role", "nurse"], settings, "short\n")
        assert weak.returncode == 2 and "12文字" in weak.stderr
        rows = cw_conn.execute(
            f"select username, role, display_name, password_hash like '$argon2id$%%' "
            f"from {SCHEMA}.staff_users order by username"
        ).fetchall()
        assert rows == [("sato", "caseworker", "佐藤", True), ("suzuki", "coordinator", "suzuki", True)]
    finally:
        cw_conn.execute(f"drop schema if exists {SCHEMA} cascade")
