"""What the monthly DAG's tasks do, as plain functions (the DAG file only wires them).

Every function takes the run month and the **attempt** (``run_id``, mimamori.attempts), records
its outcome as a step of that attempt in ``ingest.run_steps`` and returns a small JSON-able
summary (counts only, never a personal value) that Airflow keeps as the task's XCom. Nothing
downstream trusts an XCom for a decision: publication, the e-mails and the run's end state are
decided from this attempt's recorded steps and ``published.publication``.

:class:`DataRejected` means the data, not the machinery, is wrong: the DAG turns it into
``AirflowFailException`` (no retries). :class:`StepFailed` is the machinery (a dropped
connection): the task fails and Airflow retries it; its step is recorded as ``error``.
"""

from __future__ import annotations

import contextlib
import json
import logging

from mimamori import attempts
from mimamori.settings import Settings

log = logging.getLogger("mimamori.pipeline")

#: dbt tags that mark a model for publication (to ``published``) or for the analyst (``published_pseudo``).
PUBLISH_TAG = "publish"
PUBLISH_PSEUDO_TAG = "publish_pseudo"
#: Held for the whole of a pipeline's `dbt build`: two attempts never build the marts at once.
BUILD_LOCK = 0x6275696C  # 'buil'


class DataRejected(Exception):
    """The data, not the machinery, is wrong: the task must fail at once without retrying."""


class SourceSkipped(Exception):
    """A source under the registry policy ``skip`` was rejected: the month goes on without it."""


class StepFailed(RuntimeError):
    """The machinery failed in a step (recorded as ``error``); the task may be retried."""


class Refused(Exception):
    """Publication refused inside its transaction (the verdict or the marts changed)."""


# --------------------------------------------------------------------------- recording steps


@contextlib.contextmanager
def _loader(settings: Settings):
    from mimamori import db
    from mimamori.ingest.load import ensure_ingest_tables

    with db.connect(settings, role="loader", autocommit=True) as conn:
        ensure_ingest_tables(conn)
        yield conn


def _reader(settings: Settings):
    """The transformer reads ingest (steps, loads) and published (the publication)."""
    from mimamori import db

    return db.connect(settings, role="transformer", autocommit=True)


def record(settings: Settings, run_month: str, run_id: str, step: str, status: str, **kwargs) -> None:
    with _loader(settings) as conn:
        attempts.record_step(conn, run_month, run_id, step, status, **kwargs)


def _error_label(exc: BaseException) -> str:
    """The class (and SQLSTATE) of an error, never its message: messages can quote a value."""
    code = getattr(exc, "sqlstate", None)
    return exc.__class__.__name__ + (f" (SQLSTATE {code})" if code else "")


@contextlib.contextmanager
def _step(settings: Settings, run_month: str, run_id: str, step: str, source: str = ""):
    """Run a step; an unforeseen error is recorded as the step's ``error`` and raised as StepFailed."""
    try:
        yield
    except (DataRejected, SourceSkipped):
        raise  # the step recorded its own outcome
    except Exception as exc:  # noqa: BLE001 - recorded, then failed loudly
        label = _error_label(exc)
        log.error("%s%s %s: %s", step, f" {source}" if source else "", run_month, label)
        try:
            record(settings, run_month, run_id, step, "error", source=source, detail={"error": label})
        except Exception as again:  # noqa: BLE001 - the warehouse itself may be what failed
            log.error("could not record the error of %s: %s", step, _error_label(again))
        raise StepFailed(f"{step}{' ' + source if source else ''} failed for {run_month}: {label}") from None


# --------------------------------------------------------------------------- the steps


def check_inbox(settings: Settings, run_month: str, run_id: str) -> dict:
    """List the inbox and open the attempt (an id already used by another try is refused)."""
    with _step(settings, run_month, run_id, "inbox"):
        with _loader(settings) as conn:
            used = [key for key in attempts.read_steps(conn, run_month, run_id) if key != ("inbox", "")]
        if used:
            raise DataRejected(f"attempt {run_id} of {run_month} already has recorded steps: trigger a new run")
        month_dir = settings.inbox_dir / run_month
        present = sorted(p.name for p in month_dir.iterdir() if p.is_dir()) if month_dir.is_dir() else []
        log.info("inbox %s: %d source folders present (%s)", month_dir, len(present), ", ".join(present) or "none")
        record(settings, run_month, run_id, "inbox", "ok", detail={"sources_present": present})
    return {"run_month": run_month, "run_id": run_id, "inbox": str(month_dir), "sources_present": present}


def load_source(settings: Settings, source_name: str, run_month: str, run_id: str) -> dict:
    """Ingest one source's files for the month into raw tables as this attempt (all or nothing)."""
    from mimamori.ingest.limits import Limits
    from mimamori.ingest.load import IngestRejected, ingest_source
    from mimamori.ingest.registry import load_registry

    source = load_registry()[source_name]
    with _step(settings, run_month, run_id, "load", source_name):
        try:
            result = ingest_source(
                source,
                run_month,
                settings.inbox_dir,
                settings.dsn(role="loader"),
                settings.quarantine_dir,
                run_id=run_id,
                limits=Limits.from_settings(settings),
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
    return {"source": source_name, "run_month": run_month, "run_id": run_id, "files": files}


def _record_gates(settings: Settings, run_month: str, run_id: str, step: str, results: dict) -> None:
    with _loader(settings) as conn:
        for name, result in results.items():
            source = "" if step == "marts_gate" else name
            attempts.record_step(
                conn, run_month, run_id, step, attempts.gate_status(result), source=source, detail=result.to_dict()
            )


def _decision(settings: Settings, run_month: str, run_id: str, until: str) -> dict:
    with _reader(settings) as conn:
        v = attempts.verdict(conn, run_month, run_id, until=until)
    return {
        "publish": v.publish,
        "blocking": v.blocking,
        "skipped_sources": v.skipped_sources,
        "reasons": [r["ja"] for r in v.reasons],
    }


def raw_gate(settings: Settings, run_month: str, run_id: str) -> dict:
    """GX suites on every source this attempt loaded; returns {results, decision} (counts only)."""
    from mimamori import quality

    with _step(settings, run_month, run_id, "raw_gate"):
        results = quality.validate_raw(settings, run_month, run_id=run_id)
        _record_gates(settings, run_month, run_id, "raw_gate", results)
        decision = _decision(settings, run_month, run_id, "raw")
    for name, result in results.items():
        log.info("raw gate %s: %s (%d failed)", name, attempts.gate_status(result), len(result.failed))
    return {"results": {k: v.to_dict() for k, v in results.items()}, "decision": decision}


def _relation_oids(settings: Settings, relations: list[str]) -> dict[str, int]:
    """The physical identity of each published relation right after the build (dbt replaces tables)."""
    with _reader(settings) as conn:
        oids = {rel: conn.execute("select to_regclass(%s)::oid", (rel,)).fetchone()[0] for rel in relations}
    return {rel: oid for rel, oid in oids.items() if oid is not None}  # one missing: publication refuses


@contextlib.contextmanager
def _build_lock(settings: Settings):
    from mimamori import db

    with db.connect(settings, role="transformer", autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (BUILD_LOCK,))
        try:
            yield
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (BUILD_LOCK,))


def build_models(settings: Settings, run_month: str, run_id: str) -> dict:
    """`dbt build` (seeds, models, data tests and unit tests) on this attempt's raw rows only."""
    from mimamori import dbt

    with _step(settings, run_month, run_id, "build"):
        decision = _decision(settings, run_month, run_id, "raw")
        if decision["blocking"]:
            record(settings, run_month, run_id, "build", "refused", detail=decision)
            raise DataRejected(f"not built for {run_month}: blocking sources {', '.join(decision['blocking'])}")
        skipped = sorted(decision["skipped_sources"])
        with _build_lock(settings):
            result = dbt.run(
                settings,
                ["build", "--fail-fast"],
                run_month=run_month,
                run_id=run_id,
                log=log.info,
                extra_vars={"skipped_sources": skipped},
            )
            relations = _relation_oids(settings, sum(published_relations(settings), [])) if result.ok else {}
        detail = {"skipped_sources": skipped, "relations": relations, "statuses": result.statuses}
        record(settings, run_month, run_id, "build", "ok" if result.ok else "failed", detail=detail)
    if not result.ok:
        raise DataRejected(f"dbt build failed for {run_month}: {', '.join(result.failures) or 'see the log'}")
    return {"run_month": run_month, "run_id": run_id, "seconds": round(result.seconds, 1), "statuses": result.statuses}


def model_gates(settings: Settings, run_month: str, run_id: str) -> dict:
    """The identity gate and the marts gate in one task (one GX import)."""
    from mimamori import quality

    with _step(settings, run_month, run_id, "marts_gate"):
        identity = quality.validate_identity(settings, run_month, run_id=run_id)
        marts = quality.validate_marts(settings, run_month, run_id=run_id)
        _record_gates(settings, run_month, run_id, "identity_gate", identity)
        _record_gates(settings, run_month, run_id, "marts_gate", marts)
        decision = _decision(settings, run_month, run_id, "publish")
    results = {**{f"identity:{k}": v for k, v in identity.items()}, **{f"marts:{k}": v for k, v in marts.items()}}
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


def gate_results(conn, run_month: str, run_id: str) -> list:
    """This attempt's GateResults, as its gate steps recorded them."""
    from mimamori.quality import GateResult

    steps = attempts.read_steps(conn, run_month, run_id)
    return [
        GateResult.from_dict(s.detail)
        for (step, _), s in sorted(steps.items())
        if step in ("raw_gate", "identity_gate", "marts_gate") and s.detail.get("stage")
    ]


def check_built(conn, built: dict[str, int], relations: list[str]) -> None:
    """Refuse unless every relation is, still, the one this attempt's build made.

    The relations are locked first (ACCESS SHARE, held until the publication commits), so no
    build can swap one between this check and the copy.
    """
    from psycopg import sql

    missing = [rel for rel in relations if rel not in built]
    absent = [rel for rel in relations if conn.execute("select to_regclass(%s)", (rel,)).fetchone()[0] is None]
    if missing or absent:
        raise Refused(f"not built in this attempt: {', '.join(sorted(set(missing + absent)))}")
    targets = sql.SQL(", ").join(sql.Identifier(*rel.split(".")) for rel in relations)
    conn.execute(sql.SQL("lock table {} in access share mode").format(targets))
    changed = [
        rel for rel in relations if conn.execute("select to_regclass(%s)::oid", (rel,)).fetchone()[0] != built[rel]
    ]
    if changed:
        raise Refused(f"rebuilt since this attempt's build: {', '.join(changed)}")


def _refused(settings: Settings, run_month: str, run_id: str, reasons: str) -> DataRejected:
    record(settings, run_month, run_id, "publish", "refused", detail={"reasons": reasons})
    return DataRejected(f"publication of {run_month} refused for attempt {run_id}: {reasons}")


def publish_month(settings: Settings, run_month: str, run_id: str) -> dict:
    """Publish the month if this attempt's verdict allows it (checked again inside the transaction)."""
    from mimamori import publish, quality
    from mimamori.ingest.registry import load_registry

    registry = load_registry()
    with _step(settings, run_month, run_id, "publish"):
        with _reader(settings) as conn:
            verdict = attempts.verdict(conn, run_month, run_id, registry)
            summary = quality.summary(gate_results(conn, run_month, run_id))
        if not verdict.publish:
            raise _refused(settings, run_month, run_id, "; ".join(r["ja"] for r in verdict.reasons))
        tables, pseudo = published_relations(settings)

        def verify(conn) -> None:
            again = attempts.verdict(conn, run_month, run_id, registry)
            if not again.publish:
                raise Refused("; ".join(r["ja"] for r in again.reasons))
            check_built(conn, again.built_relations, tables + pseudo)

        try:
            result = publish.publish(
                settings,
                run_month,
                tables,
                pseudo,
                gate_summary=summary,
                skipped_sources=verdict.skipped_sources,
                run_id=run_id,
                verify=verify,
            )
        except Refused as exc:
            raise _refused(settings, run_month, run_id, str(exc)) from None
        record(settings, run_month, run_id, "publish", "published", detail={"tables": len(tables) + len(pseudo)})
    log.info("published %s (attempt %s): %d table(s), %d pseudonymised", run_month, run_id, len(tables), len(pseudo))
    return {
        "run_month": run_month,
        "run_id": run_id,
        "tables": tables,
        "pseudo_tables": pseudo,
        "seconds": result.seconds,
    }


def transparency_report(settings: Settings, run_month: str, run_id: str) -> dict:
    """The month's transparency report (HTML and PDF, aggregates only) for the privacy council."""
    from mimamori.report import build_report

    with _step(settings, run_month, run_id, "report"):
        html, pdf = build_report(settings, run_month)
        record(settings, run_month, run_id, "report", "ok")
    return {"html": str(html), "pdf": str(pdf)}


def retention(settings: Settings, run_month: str, run_id: str) -> dict:
    """Superseded attempts' raw rows, then whatever is past its retention period (counts audited)."""
    from mimamori import retention as rules

    with _step(settings, run_month, run_id, "retention"):
        pruned = rules.prune_superseded(settings, run_month)
        purged = rules.purge(settings, run_month)
        deleted = {k: v for k, v in {**purged["deleted"], **pruned["deleted"]}.items() if v}
        record(settings, run_month, run_id, "retention", "ok", detail={"deleted": deleted})
    return {"total": pruned["total"] + purged["total"], "deleted": deleted}


def send_alerts(settings: Settings, run_month: str, run_id: str) -> list[dict]:
    """One e-mail per failing source to its data owners, and a summary to IT (idempotent per attempt).

    Everything comes from the database: this attempt's rejections and gate steps, and whether it
    published — the IT summary says what happened, not what the gates predicted.
    """
    from mimamori import alerts

    with _step(settings, run_month, run_id, "alerts"):
        with _reader(settings) as conn:
            results = gate_results(conn, run_month, run_id)
            outcome = attempts.outcome(conn, run_month, run_id, pending=("alerts",))
        sent = alerts.send_alerts(settings, run_month, results, run_id=run_id, outcome=outcome)
        record(settings, run_month, run_id, "alerts", "ok", detail={"sent": [s["source"] for s in sent]})
    return [{"source": item["source"], "status": item["status"], "rules": item["rules"]} for item in sent]


def month_verdict(settings: Settings, run_month: str, run_id: str) -> dict:
    """The run's end state from the database: success only if this attempt published and every step after it ran."""
    with _reader(settings) as conn:
        outcome = attempts.outcome(conn, run_month, run_id)
    failed = "; ".join(r["ja"] for r in outcome["failed_steps"])
    if not outcome["published"]:
        raise DataRejected(f"{run_month} was not published by attempt {run_id}: {failed}")
    if outcome["failed_steps"]:
        raise DataRejected(f"{run_month} was published by attempt {run_id}, but: {failed}")
    return {"run_month": run_month, "run_id": run_id, "published": True}
