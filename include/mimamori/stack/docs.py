"""The docs site: GX data docs (/gx/) and dbt docs (/dbt/), on 127.0.0.1 (MIMAMORI_DOCS_BIND).

A static server over ``<state>/site``, whose two entries link to the folders GX and dbt write
(``<state>/gx/data_docs`` and ``<state>/dbt/docs``). Neither holds a personal value: GX results
keep no unexpected values, and dbt docs describe models, not rows. The server is the standard
library's with the project's security headers on every answer (:mod:`mimamori.stack.docserver`).
"""

from __future__ import annotations

import os
from pathlib import Path

from mimamori.settings import Settings
from mimamori.stack import procs


def site_dir(settings: Settings) -> Path:
    site = settings.state_dir / "site"
    site.mkdir(parents=True, exist_ok=True)
    for name, target in (("gx", settings.state_dir / "gx" / "data_docs"), ("dbt", settings.state_dir / "dbt" / "docs")):
        target.mkdir(parents=True, exist_ok=True)
        link = site / name
        if not link.is_symlink():
            link.symlink_to(target, target_is_directory=True)
    index = site / "index.html"
    index.write_text(
        "<!doctype html><meta charset='utf-8'><title>mimamori docs</title>"
        "<h1>mimamori ドキュメント</h1><ul>"
        "<li><a href='gx/mimamori/index.html'>月ごとの品質検査の結果（日本語の要約）</a></li>"
        "<li><a href='gx/index.html'>品質検査の結果一覧（Great Expectations Data Docs）</a></li>"
        "<li><a href='dbt/index.html'>データモデル（dbt docs: lineage from raw tables to dashboards）</a></li>"
        "</ul>",
        encoding="utf-8",
    )
    return site


def start(settings: Settings) -> int:
    exe = settings.root / ".local" / "venv" / "airflow" / "bin" / "python"
    pid = procs.start(
        settings,
        "docs",
        [
            str(exe),
            "-m",
            "mimamori.stack.docserver",
            "--bind",
            settings.docs_bind,
            "--directory",
            str(site_dir(settings)),
            str(settings.docs_port),
        ],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(settings.root / "include")},
    )
    host = "127.0.0.1" if settings.docs_bind in ("0.0.0.0", "") else settings.docs_bind
    procs.wait_port(settings.docs_port, 20, "docs site", host=host)
    return pid


def stop(settings: Settings) -> bool:
    return procs.stop(settings, "docs")


def generate_dbt_docs(settings: Settings, run_month: str, log=print) -> bool:
    """`dbt docs generate` into <state>/dbt/docs (catalog from the warehouse); True on success."""
    import shutil

    from mimamori import dbt

    result = dbt.run(settings, ["docs", "generate"], run_month=run_month, log=lambda _line: None)
    if not result.ok:
        log(f"dbt docs generate failed (exit {result.returncode})")
        return False
    target = settings.state_dir / "dbt" / "target"
    docs = settings.state_dir / "dbt" / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    for name in ("index.html", "manifest.json", "catalog.json"):
        if (target / name).exists():
            shutil.copy2(target / name, docs / name)
    return True
