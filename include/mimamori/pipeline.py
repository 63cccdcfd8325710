"""What the monthly DAG's tasks do, as plain functions (the DAG file only wires them).

Each function takes the run month and returns a small JSON-able summary (counts only, never a
personal value) that Airflow keeps as the task's XCom. :class:`DataRejected` means the data,
not the machinery, is wrong: the DAG turns it into ``AirflowFailException`` (no retries).
"""

from __future__ import annotations

import json
import logging

from mimamori.settings import Settings

log = logging.getLogger("mimamori.pipeline")

#: dbt tags that mark a model for publication (to ``published``) or for the analyst (``published_pseudo``).
PUBLISH_TAG = "publish"
PUBLISH_PSEUDO_TAG = "publish_pseudo"


class DataRejected(Exception):
    """The data, not the machinery, is wrong: the task must fail at once without retrying."""


class SourceSkipped(Exception):
    """A source under the registry policy ``skip`` was rejected: the month goes on without it."""


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
        message = f"{source_name}: {len(rejections)} rejection(s) for {run_month}; " + "; ".join(
            sorted({f"{r.file}: {r.rule}" for r in rejections})
        )
        if source.on_failure == "skip":
            raise SourceSkipped(message + " (policy skip: the month goes on with this source unknown)") from None
        raise DataRejected(message) from None
    files = [
        {"file": f.file, "raw_table": f.raw_table, "rows_read": f.rows_read, "rows_loaded": f.rows_loaded}
        for f in result.files
    ]
    return {"source": source_name, "run_month": run_month, "files": files}


def raw_gate(settings: Settings, run_month: str) -> dict:
    """GX suites on every loaded source; returns {results, decision} (counts only)."""
    from mimamori import quality

    results = quality.validate_raw(settings, run_month)
    decision = quality.publication_decision(results)
    for name, result in results.items():
        log.info("raw gate %s: %s (%d failed)", name, "passed" if result.success else "FAILED", len(result.failed))
    return {"results": {k: v.to_dict() for k, v in results.items()}, "decision": decision}


def build_models(settings: Settings, run_month: str, skipped_sources: list[str] | None = None) -> dict:
    """`dbt build` (seeds, models, data tests and unit tests) for the run month."""
    from mimamori import dbt

    result = dbt.run(
        settings,
        ["build", "--fail-fast"],
        run_month=run_month,
        log=log.info,
        extra_vars={"skipped_sources": sorted(skipped_sources or [])},
    )
    if not result.ok:
        raise DataRejected(f"dbt build failed for {run_month}: {', '.join(result.failures) or 'see the log'}")
    return {"run_month": run_month, "seconds": round(result.seconds, 1), "statuses": result.statuses}


def model_gates(settings: Settings, run_month: str) -> dict:
    """The identity gate and the marts gate in one task (one GX import)."""
    from mimamori import quality

    identity = quality.validate_identity(settings, run_month)
    marts = quality.validate_marts(settings, run_month)
    results = {**{f"identity:{k}": v for k, v in identity.items()}, **{f"marts:{k}": v for k, v in marts.items()}}
    decision = quality.publication_decision(list(results.values()))
    return {"results": {k: v.to_dict() for k, v in results.items()}, "decision": decision}


def published_relations(settings: Settings) -> tuple[list[str], list[str]]:
    """The dbt models tagged `publish` / `publish_pseudo`, as schema.table, from dbt's manifest."""
    manifest = json.loads((settings.state_dir / "dbt" / "target" / "manifest.json").read_text())
    tables, pseudo = [], []
    for node in manifest["nodes"].values():
        if node.get("resource_type") != "model":
            continue
        relation = f"{node['schema']}.{node.get('alias') or node['name']}"
        tags = set(node.get("tags") or [])
        if PUBLISH_TAG in tags:
            tables.append(relation)
        if PUBLISH_PSEUDO_TAG in tags:
            pseudo.append(relation)
    return sorted(tables), sorted(pseudo)


def publish_month(settings: Settings, run_month: str, gate_outputs: list[dict | None]) -> dict:
    """Publish the month when every gate allows it (sources under `skip` excepted)."""
    from mimamori import publish, quality

    results = [out["results"] for out in gate_outputs if out]
    decision = quality.publication_decision(results)
    if not decision["publish"]:
        raise DataRejected(f"publication of {run_month} blocked by: {', '.join(decision['blocking'])}")
    tables, pseudo = published_relations(settings)
    if not tables:
        raise DataRejected("no dbt model is tagged 'publish': nothing to publish")
    result = publish.publish(
        settings,
        run_month,
        tables,
        pseudo,
        gate_summary=decision["summary"],
        skipped_sources=decision["skipped_sources"],
    )
    log.info("published %s: %d table(s), %d pseudonymised", run_month, len(tables), len(pseudo))
    return {"run_month": run_month, "tables": tables, "pseudo_tables": pseudo, "seconds": round(result.seconds, 2)}


def send_alerts(settings: Settings, run_month: str, gate_outputs: list[dict | None], run_id: str) -> list[dict]:
    """One e-mail per failing source to its data owners, and a summary to IT (idempotent per run)."""
    from mimamori import alerts

    results = [out["results"] for out in gate_outputs if out]
    sent = alerts.send_alerts(settings, run_month, results, run_id=run_id)
    return [{"source": item["source"], "status": item["status"], "rules": item["rules"]} for item in sent]


def send_mail(to: list[str], subject: str, html: str, conn_id: str = "smtp_default") -> None:
    """Send through Airflow's SMTP connection (locally: the mail catcher)."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    with SmtpHook(smtp_conn_id=conn_id) as hook:
        hook.send_email_smtp(to=to, subject=subject, html_content=html)
