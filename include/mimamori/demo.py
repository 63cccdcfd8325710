"""`make demo`: start the stack, generate the synthetic town, run the monthly DAG, summarise.

Every number printed is measured from the warehouse or the mail catcher after the run.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from mimamori.months import month_before, next_month, validate_month
from mimamori.settings import get_settings


def _say(message: str) -> None:
    print(f"[mimamori] {message}", flush=True)


def month_range(end_month: str, months: int) -> list[str]:
    """The `months` consecutive months ending at `end_month`, oldest first."""
    result = [validate_month(end_month)]
    while len(result) < months:
        result.append(month_before(result[-1]))
    return result[:months][::-1]


def generate_town(out: Path, seed: int, scale: float, months: int, end_month: str) -> None:
    """Generate the town unless the same one is already there (its manifest says so)."""
    from mimamori import synth

    manifest = out / "manifest.json"
    wanted = {"seed": seed, "scale": scale, "months": months, "end_month": end_month, "faults": []}
    if manifest.exists():
        have = json.loads(manifest.read_text(encoding="utf-8"))
        if all(have.get(k) == v for k, v in wanted.items()):
            _say(f"synthetic town already generated in {out} (seed {seed}, scale {scale}, {months} months)")
            return
    t0 = time.monotonic()
    _say(f"generating the synthetic town: seed {seed}, scale {scale}, {months} month(s) to {end_month}")
    synth.generate(out, seed=seed, scale=scale, months=months, end_month=end_month)
    _say(f"synthetic town generated in {time.monotonic() - t0:.1f}s → {out / 'inbox'}")


def published_since(settings, month: str, since) -> str | None:
    """The attempt (run id) that published `month` after `since`, if any: the database decides."""
    from mimamori import db

    with db.connect(settings, role="transformer", autocommit=True) as conn:
        if not conn.execute("select to_regclass('published.publication') is not null").fetchone()[0]:
            return None
        row = conn.execute(
            "select coalesce(to_jsonb(p) ->> 'run_id', '') from published.publication as p"
            " where run_month = %s and published_at >= %s order by published_at desc limit 1",
            (month, since),
        ).fetchone()
    return row[0] if row else None


def run_month(settings, month: str, logical_date: str | None = None):
    """Run the DAG for one month: (exit status, what to say, the run's output).

    The status is 0 only if the run succeeded AND the database shows the month published by it:
    `make run-month`'s exit status, the run's state and the IT mail say the same thing.
    """
    import datetime as dt

    from mimamori.stack import airflow

    t0, started = time.monotonic(), dt.datetime.now(dt.UTC)
    result = airflow.dags_test(settings, month, logical_date=logical_date)
    published = published_since(settings, month, started)
    if result.returncode == 0 and published is not None:
        line = f"{month}: published by run {published} in {time.monotonic() - t0:.0f}s"
        line += f" (next scheduled run month: {next_month(month)})"
        try:
            line = "\n".join([line, *notice_summary(settings, month, published)])
        except Exception as exc:  # noqa: BLE001 - the summary is help, never a second failure
            line += f"\n  お知らせを読めませんでした（{type(exc).__name__}）"
        return 0, line, result
    state = f"published by run {published}, but a step after publication failed" if published else "NOT published"
    log = _keep_output(settings, month, result)
    run_id = run_id_of(result.stdout + result.stderr)
    lines = [f"{month}: {state} (DAG exit {result.returncode}, attempt {run_id or '不明'})"]
    if run_id is None:
        lines.append("  この試行の記録が見つかりません（DAG が始まる前に止まりました）")
    else:
        try:
            lines += failure_summary(settings, month, run_id)
        except Exception as exc:  # the summary is help, never a second failure
            lines.append(f"  試行の記録を読めませんでした（{type(exc).__name__}）")
    lines.append(f"  Airflow の出力全体: {log}")
    return 1, "\n".join(lines), result


RUN_ID = re.compile(r"run_id=((?:manual|scheduled|backfill|asset_triggered)__[0-9T:.+-]+)")


def run_id_of(output: str) -> str | None:
    """The run id of a `dags test` run, from its own log lines."""
    found = RUN_ID.search(output)
    return found.group(1) if found else None


def _keep_output(settings, month: str, result) -> Path:
    """The run's whole output, kept under the state folder (it is not printed: it is long)."""
    import datetime as dt

    folder = settings.state_dir / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"run-month-{month}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}.log"
    path.write_text(result.stdout + "\n" + result.stderr)
    return path


def _attempt_rows(conn, table: str, extra: str, month: str, run_id: str) -> list:
    """(source, file, rule, rows[, `extra` column]) of the attempt's ingest.<table>, by source, file
    and rule; none before the table exists."""
    if not conn.execute("select to_regclass(%s) is not null", (f"ingest.{table}",)).fetchone()[0]:
        return []
    columns = "source, file, rule, coalesce(cardinality(rows), 0)" + (f", {extra}" if extra else "")
    return conn.execute(
        f"select {columns} from ingest.{table} where run_month = %s and run_id = %s order by source, file, rule",
        (month, run_id),
    ).fetchall()


def failure_summary(settings, month: str, run_id: str) -> list[str]:
    """What stopped this attempt, from the database: each failed step, each rejected file with its
    rule and row count, and who was mailed — counts, files and rules only, never a value."""
    from mimamori import attempts, db
    from mimamori.ingest.registry import load_registry

    registry = load_registry()
    with db.connect(settings, role="transformer", autocommit=True) as conn:
        done = attempts.outcome(conn, month, run_id, registry)
        rejections = _attempt_rows(conn, "rejections", "message_ja", month, run_id)
    lines = ["  止まった段階:"]
    lines += [f"    - {r['ja']}" for r in done["failed_steps"]] or ["    - （記録なし）"]
    if rejections:
        lines.append("  却下したファイル（ファイル / 規則 / 行数）:")
        lines += [
            f"    - {src}: {file} / {rule} / {f'{n}行' if n else 'ファイル全体'} — {msg}"
            for src, file, rule, n, msg in rejections
        ]
    told = notices(settings, month, run_id)
    lines += notice_lines(told)
    failing = sorted(
        {r["source"] for r in done["failed_steps"] if r["source"]}
        | {row[0] for row in rejections}
        | {n[0] for n in told}
    )
    mailed = [
        f"{name} → {', '.join(o.email for o in registry[name].data_owners)}" for name in failing if name in registry
    ]
    lines.append("  メールを送った先: IT " + settings.it_email + ("; " + "; ".join(mailed) if mailed else ""))
    return lines


def notices(settings, month: str, run_id: str) -> list[tuple[str, str, str, int]]:
    """(source, file, rule, rows) the owners were told without the month being held back:
    unexpected file names, identical rows (ingest.notices) and gate checks of severity notice
    (ages outside 0–18) — never a value."""
    from mimamori import pipeline
    from mimamori.stack import pg

    with pg.connect(settings, role="transformer", autocommit=True) as conn:
        ingest = _attempt_rows(conn, "notices", "", month, run_id)
        gates = [
            (r.source, n.get("file") or "", n["check_id"], n.get("count") or 0)
            for r in pipeline.gate_results(conn, month, run_id)
            for n in r.notices or []
            if n.get("check_id")
        ]
    return [tuple(row) for row in ingest] + gates


def notice_lines(told: list[tuple[str, str, str, int]]) -> list[str]:
    if not told:
        return []
    lines = ["  データ所有者へのお知らせ（これだけでは公開を止めません。ファイル / 規則 / 行数）:"]
    lines += [f"    - {src}: {file} / {rule} / {f'{n}行' if n else 'ファイル'}" for src, file, rule, n in told]
    return lines


def notice_summary(settings, month: str, run_id: str) -> list[str]:
    """The notices of a published attempt, and to whom they were mailed."""
    from mimamori.ingest.registry import load_registry

    told = notices(settings, month, run_id)
    if not told:
        return []
    registry = load_registry()
    mailed = sorted({src for src, *_ in told if src in registry})
    owners = "; ".join(f"{name} → {', '.join(o.email for o in registry[name].data_owners)}" for name in mailed)
    return [*notice_lines(told), f"  お知らせのメールを送った先: {owners}"]


def run_months(settings, months: list[str]) -> None:
    """Run each month in turn; stop with exit status 1 at the first that did not publish cleanly."""
    for month in months:
        _say(f"running the monthly DAG for {month} (airflow dags test; about a minute)")
        status, line, _ = run_month(settings, month)
        _say(line)
        if status:
            sys.exit(status)


def summary(settings, month: str) -> None:
    from mimamori import db
    from mimamori.stack import airflow, casescreen, superset
    from mimamori.stack.mailcatcher import read_messages

    with db.connect(settings) as conn:
        loads = conn.execute(  # the files of the attempt that published the month (attempts stand side by side)
            "select source, file, raw_table, rows_loaded from ingest.file_loads where run_month = %s and run_id ="
            " (select run_id from published.publication where run_month = %s order by published_at desc limit 1)"
            " order by 1, 2",
            (month, month),
        ).fetchall()
        published = conn.execute(
            "select run_month from published.publication order by published_at desc limit 1"
        ).fetchone()
        types = conn.execute(
            """select type_code, type_label_ja, children_in_scope, children_in_age_range, flagged_count, flagged_share
               from published.month_summary order by type_sort_order"""
        ).fetchall()
        proposed = conn.execute(
            "select count(*) filter (where is_proposed), count(*) from published.household_candidates"
        ).fetchone()
        review = conn.execute("select count(*) from published.identity_review_queue").fetchone()[0]
        unmatched = conn.execute(
            "select count(*) from published.identity_review_records where link_status = 'unmatched'"
        ).fetchone()[0]
    print()
    print(f"== mimamori demo: run month {month} (published: {published[0] if published else 'none'}) ==")
    print(f"{'source':<14}{'file':<24}{'raw table':<50}{'rows':>8}")
    for source, file, table, rows in loads:
        print(f"{source:<14}{file:<24}{'raw.' + table:<50}{rows:>8}")
    print()
    print(f"{'type':<26}{'label':<14}{'in age range':>13}{'flagged':>9}{'share':>8}")
    for code, label, in_scope, in_range, flagged, share in types:
        print(f"{code:<26}{label:<14}{in_range if code != '_any' else in_scope:>13}{flagged:>9}{float(share):>8.1%}")
    print(
        f"candidate households: {proposed[1]} ({proposed[0]} proposed for the conference); "
        f"identity review queue: {review} record(s); unmatched (未照合一覧): {unmatched} record(s)"
    )
    mails = read_messages(settings.mail_dir)
    print(f"mail caught: {len(mails)} message(s) in {settings.mail_dir}")
    print()
    print(f"Airflow:      {airflow.url(settings)}   (admin / MIMAMORI_AIRFLOW_ADMIN_PASSWORD in .env)")
    print(f"Superset:     {superset.url(settings)}   (admin / MIMAMORI_SUPERSET_ADMIN_PASSWORD in .env)")
    print("              users per role: coordinator, caseworker, nurse, school_board, analyst")
    print("              (MIMAMORI_SUPERSET_<USER>_PASSWORD in .env, e.g. MIMAMORI_SUPERSET_NURSE_PASSWORD)")
    print(f"case screen:  {casescreen.url(settings)}   (admin / MIMAMORI_CASESCREEN_ADMIN_PASSWORD in .env)")
    print(f"docs:         {settings.docs_url}/   (GX data docs, dbt docs)")
    print("passwords:    one per service and user, none shared: grep MIMAMORI_AIRFLOW_ADMIN_PASSWORD .env")
    print("stop everything with: make down")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mimamori.demo",
        description="mimamori demo: start the stack, generate the synthetic town, run the monthly DAG.",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--months", type=int, default=2, help="months of history to generate and run (default 2)")
    parser.add_argument("--end-month", default="2026-10", help="the demo run month, YYYY-MM (default 2026-10)")
    parser.add_argument("--run-only", action="store_true", help="do not generate: run the DAG on the current inbox")
    args = parser.parse_args(argv)
    settings = get_settings()
    from mimamori.stack.__main__ import up

    t0 = time.monotonic()
    if not args.run_only:
        generate_town(settings.state_dir / "town", args.seed, args.scale, args.months, args.end_month)
    up(with_superset=True)
    months = month_range(args.end_month, args.months)
    run_months(settings, months)
    from mimamori.stack import docs

    if docs.generate_dbt_docs(settings, months[-1], log=_say):
        _say(f"dbt docs generated: {settings.docs_url}/dbt/index.html")
    summary(settings, months[-1])
    _say(f"demo finished in {time.monotonic() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
