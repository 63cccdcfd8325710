"""A month's attempts: one id per try, every step's outcome, and the one verdict publish takes.

An **attempt** is one try at a run month: an Airflow DAG run (its ``run_id``; a cleared and
re-run DAG run is a new attempt, ``<run_id>#<clear_number>``) or one ``python -m
mimamori.ingest`` call (``cli__<time>``). Every raw row, ``ingest.*`` row, gate result and
published row carries it, and attempts are kept side by side: a re-run never overwrites or
reads another attempt's rows.

Each step of an attempt records its outcome in ``ingest.run_steps`` — per source for the load
and the raw / identity gates, once for the dbt build, the marts gate, publication, the report,
retention and the alerts. :func:`verdict` reads only **this** attempt's steps: a source is
publishable when it was loaded and passed its gates in this attempt (or failed under the
registry policy ``skip``); a step that is missing — never ran, crashed, ran in another attempt —
counts as failed. Publication, the IT summary and the DAG's final state all come from it and
from ``published.publication`` (docs/quality.md, "One verdict per attempt").
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field

#: ingest.run_steps, created with the other ingest tables by the loader (mimamori.ingest.load).
STEPS_DDL = """
create table if not exists ingest.run_steps (
    run_month text not null,
    run_id text not null,
    step text not null,
    source text not null default '',
    status text not null,
    detail jsonb not null default '{}'::jsonb,
    recorded_at timestamptz not null default clock_timestamp(),
    primary key (run_month, run_id, step, source)
)
"""

#: Steps per source, in order, and the steps of the month as a whole.
SOURCE_STEPS = ("load", "raw_gate", "identity_gate")
MONTH_STEPS = ("inbox", "build", "marts_gate", "publish", "report", "retention", "alerts")
#: After publication: the month is published whatever they do, but the run is only done when they are.
AFTER_PUBLISH = ("report", "retention", "alerts")
#: A gate step's statuses that let a source through.
GATE_OK = ("passed", "skipped")

STEP_JA = {
    "inbox": "受信フォルダの確認",
    "load": "取り込み",
    "raw_gate": "取り込み後の検査",
    "identity_gate": "名寄せ後の検査",
    "build": "判定モデルの作成（dbt）",
    "marts_gate": "判定結果の検査",
    "publish": "公開",
    "report": "透明性レポート",
    "retention": "保存期間による削除",
    "alerts": "通知メール",
}
STATUS_JA = {
    None: "未実行（この試行では記録なし）",
    "ok": "完了",
    "loaded": "取り込み済み",
    "rejected": "却下",
    "passed": "合格",
    "skipped": "省略",
    "failed": "不合格",
    "not_validated": "未検査",
    "refused": "拒否（前の段階が不合格）",
    "published": "公開済み",
    "error": "エラー（システム）",
    "stale_skip": "作成後に除外する提供元が変わった（再実行が必要）",
}


def attempt_id(run_id: str, clear_number: int | None = 0) -> str:
    """The attempt of an Airflow DAG run: its run_id, or ``<run_id>#<n>`` after the n-th clear."""
    if not run_id:
        raise ValueError("an attempt needs the DAG run's run_id")
    return run_id if not clear_number else f"{run_id}#{int(clear_number)}"


def new_attempt_id(kind: str = "cli") -> str:
    """An attempt outside Airflow (the ingest command line, tests): ``cli__<UTC time>``."""
    return f"{kind}__{dt.datetime.now(dt.UTC).isoformat()}"


@dataclass(frozen=True)
class Step:
    step: str
    source: str
    status: str
    detail: dict
    recorded_at: dt.datetime | None = None


def record_step(
    conn, run_month: str, run_id: str, step: str, status: str, *, source: str = "", detail: dict | None = None
) -> None:
    """Upsert one step's outcome for the attempt (a task retry within the attempt replaces it)."""
    conn.execute(
        "insert into ingest.run_steps (run_month, run_id, step, source, status, detail)"
        " values (%s, %s, %s, %s, %s, %s::jsonb)"
        " on conflict (run_month, run_id, step, source) do update"
        " set status = excluded.status, detail = excluded.detail, recorded_at = clock_timestamp()",
        (run_month, run_id, step, source, status, json.dumps(detail or {}, ensure_ascii=False, default=str)),
    )


def read_steps(conn, run_month: str, run_id: str) -> dict[tuple[str, str], Step]:
    """{(step, source): Step} of one attempt ('' is the source of month-wide steps)."""
    if not conn.execute("select to_regclass('ingest.run_steps') is not null").fetchone()[0]:
        return {}
    rows = conn.execute(
        "select step, source, status, detail, recorded_at from ingest.run_steps where run_month = %s and run_id = %s",
        (run_month, run_id),
    ).fetchall()
    return {(r[0], r[1]): Step(r[0], r[1], r[2], r[3] or {}, r[4]) for r in rows}


def latest_attempt(conn, run_month: str) -> str | None:
    """The attempt that loaded the month most recently (what a manual `dbt build` reads by default)."""
    if not conn.execute("select to_regclass('ingest.file_loads') is not null").fetchone()[0]:
        return None
    row = conn.execute(
        "select run_id from ingest.file_loads where run_month = %s order by loaded_at desc, run_id desc limit 1",
        (run_month,),
    ).fetchone()
    return row[0] if row else None


def publication_of(conn, run_month: str, run_id: str) -> dict | None:
    """This attempt's row of ``published.publication`` (None: the attempt published nothing)."""
    present = conn.execute(
        "select exists (select 1 from information_schema.columns where table_schema = 'published'"
        " and table_name = 'publication' and column_name = 'run_id')"
    ).fetchone()[0]
    if not present:
        return None
    row = conn.execute(
        "select run_month, run_id, published_at, tables, pseudo_tables, skipped_sources from published.publication"
        " where run_month = %s and run_id = %s order by published_at desc limit 1",
        (run_month, run_id),
    ).fetchone()
    keys = ("run_month", "run_id", "published_at", "tables", "pseudo_tables", "skipped_sources")
    return dict(zip(keys, row, strict=True)) if row else None


@dataclass
class Verdict:
    """Whether this attempt may publish, and why not (counts and step names only)."""

    run_month: str
    run_id: str
    publish: bool
    blocking: list[str] = field(default_factory=list)
    skipped_sources: list[str] = field(default_factory=list)
    reasons: list[dict] = field(default_factory=list)  # {source, step, status, ja}
    built_relations: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _reason(source: str, step: str, status: str | None) -> dict:
    label = f"{source}: " if source else ""
    return {
        "source": source,
        "step": step,
        "status": status,
        "ja": f"{label}{STEP_JA[step]} — {STATUS_JA.get(status, status)}",
    }


def _source_verdict(steps: dict, name: str, source, until: str) -> tuple[str, dict | None]:
    """('ok' | 'skip' | 'block', the reason) of one source over this attempt's steps."""
    from mimamori.ingest.registry import NEVER_SKIP

    may_skip = source.on_failure == "skip" and name not in NEVER_SKIP
    load = steps.get(("load", name))
    if load is None or load.status != "loaded":
        status = load.status if load else None
        # A data rejection may be skipped under the policy; a crash or a missing step never is.
        return ("skip" if may_skip and status == "rejected" else "block"), _reason(name, "load", status)
    gates = ("raw_gate",) if until == "raw" else ("raw_gate", "identity_gate")
    for gate in gates:
        got = steps.get((gate, name))
        if got is None or got.status not in GATE_OK:
            status = got.status if got else None
            return ("skip" if may_skip and status == "failed" else "block"), _reason(name, gate, status)
    return "ok", None


def verdict(conn, run_month: str, run_id: str, registry: dict | None = None, *, until: str = "publish") -> Verdict:
    """The one verdict over every step of THIS attempt.

    ``until='raw'``: loads and raw gates only (what the dbt build may read and skip);
    ``until='publish'``: also the identity gates, a successful build of this attempt that skipped
    exactly the sources skipped now, and the marts gate.
    """
    from mimamori.ingest.registry import load_registry

    registry = registry if registry is not None else load_registry()
    steps = read_steps(conn, run_month, run_id)
    out = Verdict(run_month=run_month, run_id=run_id, publish=False)
    for name, source in registry.items():
        state, reason = _source_verdict(steps, name, source, until)
        if state == "skip":
            out.skipped_sources.append(name)
        elif state == "block":
            out.blocking.append(name)
        if reason:
            out.reasons.append(reason)
    if until == "publish":
        _month_verdict(steps, out)
    # Only a skipped source's own failure may stand; a blocking source or a month-wide step may not.
    out.publish = not out.blocking and all(r["source"] in out.skipped_sources for r in out.reasons)
    return out


def _month_verdict(steps: dict, out: Verdict) -> None:
    build = steps.get(("build", ""))
    if build is None or build.status != "ok":
        out.reasons.append(_reason("", "build", build.status if build else None))
    elif sorted(build.detail.get("skipped_sources") or []) != sorted(out.skipped_sources):
        # A skip-policy source failed after the build read it: the marts still hold its items.
        out.reasons.append(_reason("", "build", "stale_skip"))
    else:
        out.built_relations = {k: int(v) for k, v in (build.detail.get("relations") or {}).items()}
    marts = steps.get(("marts_gate", ""))
    if marts is None or marts.status not in GATE_OK:
        out.reasons.append(_reason("", "marts_gate", marts.status if marts else None))


def outcome(conn, run_month: str, run_id: str, registry: dict | None = None, *, pending: tuple[str, ...] = ()) -> dict:
    """What this attempt did, from the database alone: the IT summary and the DAG's end state use it.

    ``published`` is true only when ``published.publication`` holds a row of this attempt.
    ``failed_steps``: steps that failed or never ran (after publication: report, retention, alerts
    — except the ``pending`` ones, e.g. the alerts while they are being sent).
    """
    v = verdict(conn, run_month, run_id, registry)
    steps = read_steps(conn, run_month, run_id)
    publication = publication_of(conn, run_month, run_id)
    failed = [r for r in v.reasons if r["source"] not in v.skipped_sources]
    if publication is not None:
        failed = []
        for step in (s for s in AFTER_PUBLISH if s not in pending):
            got = steps.get((step, ""))
            if got is None or got.status != "ok":
                failed.append(_reason("", step, got.status if got else None))
    else:
        pub = steps.get(("publish", ""))
        failed.append(_reason("", "publish", pub.status if pub else None))
    return {
        "run_month": run_month,
        "run_id": run_id,
        "published": publication is not None,
        "publication": publication,
        "verdict": v.to_dict(),
        "steps": {f"{s.step}:{s.source}" if s.source else s.step: s.status for s in steps.values()},
        "failed_steps": failed,
    }


def gate_status(result) -> str:
    """A GateResult as a step status: passed, skipped (success without checks), failed, not_validated."""
    if result.success:
        return "skipped" if result.skipped else "passed"
    return "not_validated" if result.skipped else "failed"
