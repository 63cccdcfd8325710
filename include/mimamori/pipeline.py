"""What the monthly DAG's tasks do, as plain functions (the DAG file only wires them).

Each function takes the run month and returns a small JSON-able summary (counts only, never
a personal value) that Airflow keeps as the task's XCom.
"""

from __future__ import annotations

import logging
from pathlib import Path

from mimamori.settings import Settings

log = logging.getLogger("mimamori.pipeline")


class DataRejected(Exception):
    """The data, not the machinery, is wrong: the task must fail at once without retrying."""


def check_inbox(settings: Settings, run_month: str) -> dict:
    month_dir = settings.inbox_dir / run_month
    present = sorted(p.name for p in month_dir.iterdir() if p.is_dir()) if month_dir.is_dir() else []
    log.info("inbox %s: %d source folders present (%s)", month_dir, len(present), ", ".join(present) or "none")
    return {"run_month": run_month, "inbox": str(month_dir), "sources_present": present}


def load_source(settings: Settings, source_name: str, run_month: str) -> dict:
    """Ingest one source's files for the month into raw tables (atomic per source and month)."""
    from mimamori.ingest.load import IngestRejected, ingest_source
    from mimamori.ingest.registry import load_registry

    source = load_registry()[source_name]
    try:
        result = ingest_source(
            source,
            run_month,
            settings.inbox_dir,
            settings.dsn(role="loader"),
            settings.quarantine_dir,
            log=log.info,
        )
    except IngestRejected as exc:
        rejections = exc.result.rejections
        for rejection in rejections:
            log.error("rejected: %s", rejection.message_en)
        raise DataRejected(
            f"{source_name}: {len(rejections)} rejection(s) for {run_month}; "
            + "; ".join(sorted({f'{r.file}: {r.rule}' for r in rejections}))
        ) from None
    files = [
        {"file": f.file, "raw_table": f.raw_table, "rows_read": f.rows_read, "rows_loaded": f.rows_loaded}
        for f in result.files
    ]
    return {"source": source_name, "run_month": run_month, "files": files}


def build_models(settings: Settings, run_month: str) -> dict:
    from mimamori import dbt

    result = dbt.run(settings, ["build", "--fail-fast"], run_month=run_month, log=log.info)
    if not result.ok:
        raise DataRejected(f"dbt build failed for {run_month}: {', '.join(result.failures) or 'see log'}")
    return {"run_month": run_month, "seconds": round(result.seconds, 1), "statuses": result.statuses}


def month_counts(settings: Settings, run_month: str) -> dict:
    """Counts for the run summary (children in scope, residents)."""
    from mimamori.stack import pg

    with pg.connect(settings, role="transformer") as conn:
        residents = conn.execute(
            "select count(*) from raw.jumin__residents where run_month = %s", (run_month,)
        ).fetchone()[0]
        children = conn.execute("select count(*) from marts.children where run_month = %s", (run_month,)).fetchone()[0]
    return {"residents": residents, "children_in_scope": children}


def summary_mail(run_month: str, loads: list[dict | None], counts: dict | None, dag_run_state: str) -> tuple[str, str]:
    """Subject and HTML body (Japanese) of the run summary for IT: counts only."""
    rows = []
    for item in loads:
        if not item:
            continue
        for f in item.get("files", []):
            rows.append(
                f"<tr><td>{item['source']}</td><td>{f['file']}</td><td>{f['rows_read']}</td><td>{f['rows_loaded']}</td></tr>"
            )
    loaded = {item["source"] for item in loads if item}
    subject = f"[mimamori] {run_month} 月次処理の結果: {dag_run_state}"
    body = (
        f"<p>{run_month} の月次処理が終わりました（状態: {dag_run_state}）。</p>"
        f"<p>取り込み済みの提供元: {len(loaded)} 件</p>"
        "<table border='1'><tr><th>提供元</th><th>ファイル</th><th>読込行数</th><th>登録行数</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    if counts:
        body += f"<p>住民 {counts.get('residents')} 人、対象児童（0～18歳） {counts.get('children_in_scope')} 人。</p>"
    body += "<p>このメールには個人を特定する情報は含まれていません。</p>"
    return subject, body


def send_mail(to: list[str], subject: str, html: str, conn_id: str = "smtp_default") -> None:
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    with SmtpHook(smtp_conn_id=conn_id) as hook:
        hook.send_email_smtp(to=to, subject=subject, html_content=html)


def inbox_path(settings: Settings, run_month: str, source: str) -> Path:
    return settings.inbox_dir / run_month / source
