"""Identity resolution side by side: the dbt matcher and Splink (DuckDB) on the same records.

The records are the dbt matcher's own inputs after normalisation: ``int_identity__match_queue``
(stage 1: 学齢簿 rows without a passing 宛名番号; stage 2: 出欠 / 学校健診 / 就学援助 / 給食費) and
the residents — the spine, with the 学齢簿 context (児童生徒番号, 学校) for stage 2 exactly as
``int_identity__school_pairs`` sees it (stage-1 records compare nothing on school / number,
as in dbt, where the spine has none). Blocking keys carry dbt's max-block-size guard. Both are
scored against the synthetic truth (truth/<month>/records.csv), each at its own best-F1
threshold on the best candidate per record (no chaining, as in dbt).
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from mimamori.identity.evaluate import LinkRates

FIELDS = [
    "name_norm", "given_norm", "kana_norm", "given_kana_norm", "sex", "address_norm",
    "school", "student_no", "birth_year", "birth_date",
]  # fmt: skip

RESIDENTS_SQL = """
select spine.id, spine.name_norm, spine.given_norm, spine.kana_norm, spine.given_kana_norm, spine.sex,
       spine.address_norm, ctx.school, ctx.student_no, spine.birth_year, spine.birth_date
from intermediate.int_identity__spine as spine
left join intermediate.int_identity__pupil_context as ctx on spine.person_id = ctx.person_id
"""

QUEUE_SQL = """
select q.id, q.name_norm, q.given_norm, q.kana_norm, q.given_kana_norm, q.sex, q.address_norm,
       case when q.match_stage = 2 then q.school end as school,
       case when q.match_stage = 2 then q.student_no end as student_no,
       q.birth_year, q.birth_date, q.match_stage, q.source_file, q.source_row_number
from intermediate.int_identity__match_queue as q
"""


def _key_expr(alias: str, rule: list[str]) -> str:
    nulls = " or ".join(f"{alias}.{f} is null" for f in rule)
    joined = " || '|' || ".join(f"{alias}.{f}::text" for f in rule)
    return f"case when {nulls} then null else {joined} end"


def export_sql(rules: list[list[str]], max_block: int) -> tuple[str, str]:
    """SQL for the two CSVs: fields + one block-key column per rule (null in oversized blocks)."""
    big = []
    for i, rule in enumerate(rules):
        cols = ", ".join(rule)
        notnull = " and ".join(f"{f} is not null" for f in rule)
        big.append(
            f"big{i} as (select {_key_expr('r', rule)} as k from residents r where {notnull} "
            f"group by {cols} having count(*) > {max_block})"
        )
    with_ = "with residents as (" + RESIDENTS_SQL + "), queue as (" + QUEUE_SQL + "), " + ", ".join(big)

    def keys(alias: str) -> str:
        return ", ".join(
            f"case when {_key_expr(alias, rule)} in (select k from big{i}) then null else {_key_expr(alias, rule)} end as b{i}"
            for i, rule in enumerate(rules)
        )

    left = f"{with_} select q.*, {keys('q')} from queue q"
    right = f"{with_} select r.*, {keys('r')} from residents r"
    return left, right


def export(conn, work: Path, rules: list[list[str]], max_block: int) -> dict:
    left_sql, right_sql = export_sql(rules, max_block)
    counts = {}
    for name, query in (("left", left_sql), ("right", right_sql)):
        path = work / f"{name}.csv"
        with path.open("wb") as fh, conn.cursor().copy(f"copy ({query}) to stdout with (format csv, header)") as cp:
            for chunk in cp:
                fh.write(chunk)
        with path.open(encoding="utf-8") as fh:
            counts[name] = sum(1 for _ in fh) - 1
    return counts


# --------------------------------------------------------------------------- evaluation


@dataclass
class Scores(LinkRates):
    PREDICTED = "links"

    threshold: float | None
    links: int
    true_positive: int
    truth_on_spine: int

    def to_dict(self) -> dict:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1}


def best_candidates(pairs: Iterable[tuple[str, str, float, bool]]) -> dict[str, tuple[str, float, float | None, bool]]:
    """(left, right, score, name_agrees) → {left: (best right, best score, runner-up score, name_agrees)}.

    Ties break on the smaller right id, as dbt's ``row_number() … order by match_score desc, right_id``."""
    best: dict[str, list] = {}
    for left, right, score, name in pairs:
        cur = best.get(left)
        if cur is None:
            best[left] = [right, score, None, name]
            continue
        if score > cur[1] or (score == cur[1] and right < cur[0]):
            runner = cur[1]
            best[left] = [right, score, runner, name]
        elif cur[2] is None or score > cur[2]:
            cur[2] = score
    return {k: tuple(v) for k, v in best.items()}


def sweep(
    best: dict[str, tuple],
    truth: dict[str, str | None],
    spine: set[str],
    *,
    tie_margin: float | None = None,
    need_name: bool = False,
) -> tuple[Scores, list[Scores]]:
    """F1 at every threshold on the best candidate's score; returns (best-F1 scores, curve).

    A record links when best ≥ threshold (and, if given, ≥ tie_margin ahead of the runner-up,
    and the name agrees). Recall counts every record whose true person is on the spine."""
    on_spine = sum(1 for person in truth.values() if person and person in spine)
    eligible = []
    for left, (right, score, runner, name) in best.items():
        if left not in truth:
            continue
        if tie_margin is not None and runner is not None and score - runner < tie_margin:
            continue
        if need_name and not name:
            continue
        eligible.append((score, right == truth[left]))
    eligible.sort(key=lambda x: -x[0])
    curve: list[Scores] = [Scores(None, 0, 0, on_spine)]
    links = tp = 0
    i = 0
    while i < len(eligible):
        score = eligible[i][0]
        while i < len(eligible) and eligible[i][0] == score:
            links += 1
            tp += eligible[i][1]
            i += 1
        curve.append(Scores(score, links, tp, on_spine))
    top = max(curve, key=lambda s: (s.f1, -(s.threshold or 0)))
    return top, curve


def read_truth(truth_csv: Path, queue: dict[str, tuple[str, int]]) -> dict[str, str | None]:
    """{queue record id: true 宛名番号 or None} via (file, row_number)."""
    by_row = {}
    with truth_csv.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            by_row[(r["file"], int(r["row_number"]))] = r["atena_no"] or None
    return {rid: by_row.get(key) for rid, key in queue.items()}


def at_threshold(curve: list[Scores], threshold: float) -> Scores:
    """The point of the curve for 'score ≥ threshold'."""
    chosen = curve[0]
    for point in curve[1:]:
        if point.threshold is not None and point.threshold >= threshold:
            chosen = point
    return chosen


def _dbt_matcher(
    settings, month: str, work: Path, project: dict, queue: dict, truth: dict, spine: set, result: dict, log
):
    """The dbt matcher: the scoring + resolution models, timed on their own (inputs as built), and
    their pairs evaluated against the truth."""
    from mimamori import db
    from mimamori import dbt as dbt_mod
    from mimamori.bench.measure import run_measured

    models = [
        "int_identity__register_pairs",
        "int_identity__pupil_context",
        "int_identity__spine_with_context",
        "int_identity__school_pairs",
        "int_identity__links",
    ]
    cmd = [str(dbt_mod.executable(settings)), "run", "--select", *models, "--vars", json.dumps({"run_month": month})]
    measured = run_measured(cmd, env=dbt_mod.env(settings), cwd=dbt_mod.project_dir(settings))
    run_results = json.loads((settings.state_dir / "dbt" / "target" / "run_results.json").read_text())
    model_seconds = {r["unique_id"].split(".")[-1]: round(r["execution_time"], 2) for r in run_results["results"]}
    result["dbt"] = {
        "wall_seconds": round(measured.seconds, 1),
        "model_seconds": model_seconds,
        "models_total_seconds": round(sum(model_seconds.values()), 1),
        "max_rss_kib": measured.max_rss_kib,
        "ok": measured.ok,
    }
    with db.connect(settings, autocommit=True) as conn:
        pairs = conn.execute(
            "select left_id, right_id, match_score::float8, has_name_agreement from intermediate.int_identity__register_pairs"
            " union all select left_id, right_id, match_score::float8, has_name_agreement"
            " from intermediate.int_identity__school_pairs"
        ).fetchall()
        shipped = dict(
            conn.execute(
                "select record_id, person_id from intermediate.int_identity__links"
                " where link_status = 'linked' and person_id is not null and record_id = any(%s)",
                (list(queue),),
            ).fetchall()
        )
    result["dbt"]["pairs"] = len(pairs)
    with (work / "dbt_pairs.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["left_id", "right_id", "match_score", "has_name_agreement"])
        writer.writerows(pairs)
    with (work / "truth.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["left_id", "true_person", "on_spine"])
        writer.writerows((rid, person or "", int(bool(person and person in spine))) for rid, person in truth.items())
    best = best_candidates(pairs)
    margin = float(project["identity_tie_margin"])
    top, curve = sweep(best, truth, spine, tie_margin=margin, need_name=True)
    top_plain, _ = sweep(best, truth, spine)
    tp = sum(1 for rid, person in shipped.items() if truth.get(rid) == person)
    as_shipped = Scores(float(project["identity_link_threshold"]), len(shipped), tp, result["truth_on_spine"])
    result["dbt"]["best_f1"] = top.to_dict()
    result["dbt"]["best_f1_threshold_only"] = top_plain.to_dict()
    result["dbt"]["as_shipped"] = as_shipped.to_dict()
    log(f"identity: dbt matcher F1 {top.f1:.4f} at ≥{top.threshold} (as shipped {as_shipped.f1:.4f})")


def _splink(work: Path, splink_python: Path, project: dict, rules: list, truth: dict, spine: set, result: dict, log):
    """Splink on the same export (its own venv), timed and evaluated like the dbt matcher."""
    from mimamori.bench.measure import run_measured

    margin = float(project["identity_tie_margin"])
    (work / "config.json").write_text(
        json.dumps({"comparisons": project["identity_comparisons"], "block_keys": [f"b{i}" for i in range(len(rules))]})
    )
    script = Path(__file__).with_name("splink_run.py")
    measured = run_measured(
        [str(splink_python), str(script), str(work)],
        log=lambda line: log("  " + line) if line.startswith("splink:") else None,
    )
    info = json.loads((work / "splink_timings.json").read_text()) if measured.ok else {}
    result["splink"] = {
        "wall_seconds": round(measured.seconds, 1),
        "max_rss_kib": measured.max_rss_kib,
        "ok": measured.ok,
    }
    if not measured.ok:
        result["splink"]["error"] = "\n".join(measured.tail[-15:])
        return
    result["splink"].update({k: info[k] for k in ("timings", "pairs", "pairs_with_left_as_r", "lambda", "weights")})
    with (work / "splink_pairs.csv").open(encoding="utf-8", newline="") as fh:
        spairs = [(r["left_id"], r["right_id"], float(r["match_weight"]), True) for r in csv.DictReader(fh)]
    sbest = best_candidates(spairs)
    stop, _ = sweep(sbest, truth, spine)
    stop_margin, _ = sweep(sbest, truth, spine, tie_margin=margin)
    result["splink"]["best_f1"] = stop.to_dict()
    result["splink"]["best_f1_with_tie_margin"] = stop_margin.to_dict()
    log(f"identity: Splink F1 {stop.f1:.4f} at ≥{stop.threshold}")


def compare(settings, month: str, town: Path, work: Path, splink_python: Path, log=print) -> dict:
    """Export, time the dbt matcher models, run Splink, evaluate both; returns a JSON-able dict."""
    import yaml

    from mimamori import db

    work.mkdir(parents=True, exist_ok=True)
    project = yaml.safe_load((settings.root / "dbt_project" / "dbt_project.yml").read_text())["vars"]
    rules = project["identity_blocking_rules"]
    result: dict = {"month": month}
    with db.connect(settings, autocommit=True) as conn:
        t = time.monotonic()
        result["export_rows"] = export(conn, work, rules, int(project["identity_max_block_size"]))
        result["export_seconds"] = round(time.monotonic() - t, 1)
        spine = {r[0] for r in conn.execute("select id from intermediate.int_identity__spine")}
        queue = {
            r[0]: (r[1], r[2])
            for r in conn.execute(
                "select id, source_file, source_row_number from intermediate.int_identity__match_queue"
            )
        }
        stage_of = dict(conn.execute("select id, match_stage from intermediate.int_identity__match_queue").fetchall())
    truth = read_truth(town / "truth" / month / "records.csv", queue)
    result["queue_records"] = len(queue)
    result["queue_by_stage"] = {
        str(k): sum(1 for v in stage_of.values() if v == k) for k in sorted(set(stage_of.values()))
    }
    result["truth_on_spine"] = sum(1 for p in truth.values() if p and p in spine)
    log(f"identity: exported {result['export_rows']} rows ({result['queue_records']} queue records)")

    _dbt_matcher(settings, month, work, project, queue, truth, spine, result, log)
    if splink_python is not None:
        _splink(work, splink_python, project, rules, truth, spine, result, log)
    return result
