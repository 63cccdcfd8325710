"""The console table and docs/benchmarks.md from the results dict (pure functions)."""

from __future__ import annotations

from pathlib import Path

from mimamori.bench.measure import fmt_bytes, fmt_count, fmt_mib, fmt_seconds, markdown_table, text_table

STAGE_ORDER = ["generate", "load", "raw gates", "dbt identity", "dbt items", "dbt scores", "model gates", "publish"]
BARE_MONTH = STAGE_ORDER[1:]
DBT = ["dbt identity", "dbt items", "dbt scores"]
#: Everything below this line in docs/benchmarks.md is kept when the script rewrites the file.
KEEP_MARKER = "<!-- bench: everything below this line is kept when `make bench` rewrites the file -->"


def _rows_in_out(stage: str, row: dict) -> tuple[str, str]:
    if stage == "generate":
        return "—", fmt_count(row.get("rows_out"))
    if stage in ("raw gates", "model gates"):
        out = f"{row['checks']} checks, {row['failed']} failed" if "checks" in row else "—"
        return fmt_count(row.get("rows_in")) if row.get("rows_in") is not None else "—", out
    return fmt_count(row.get("rows_in")), fmt_count(row.get("rows_out"))


def bare_total(scale: dict) -> float | None:
    stages = scale.get("stages", {})
    if not all(s in stages and stages[s].get("ok") for s in BARE_MONTH):
        return None
    return sum(stages[s]["seconds"] for s in BARE_MONTH)


def dbt_total(scale: dict) -> float | None:
    stages = scale.get("stages", {})
    if not all(s in stages and stages[s].get("ok") for s in DBT):
        return None
    return sum(stages[s]["seconds"] for s in DBT)


def stage_rows(scale: dict) -> list[list[str]]:
    rows = []
    for name in STAGE_ORDER:
        row = scale["stages"].get(name)
        if row is None:
            continue
        rin, rout = _rows_in_out(name, row)
        status = "ok" if row.get("ok") else "FAILED"
        rows.append([name, rin, rout, fmt_seconds(row["seconds"]), fmt_mib(row.get("max_rss_kib")),
                     fmt_mib(row.get("pg_pss_kib")), status])  # fmt: skip
    total = bare_total(scale)
    if total is not None:
        rows.append(["bare month (load → publish)", "", "", fmt_seconds(total), "", "", ""])
    af = scale.get("airflow")
    if af:
        ratio = f" ({af['seconds'] / total:.2f}× bare)" if total else ""
        rows.append(["Airflow month (dags test)", "", "", fmt_seconds(af["seconds"]) + ratio,
                     fmt_mib(af.get("max_rss_kib")), fmt_mib(af.get("pg_pss_kib")), "ok" if af.get("ok") else "FAILED"])  # fmt: skip
    return rows


HEADER = ["stage", "rows in", "rows out", "wall s", "peak MiB", "PostgreSQL MiB", ""]


def console(results: dict) -> str:
    out = []
    for key, scale in results.get("scales", {}).items():
        out.append(
            f"\nscale {key}  (town {fmt_bytes(scale.get('town_bytes'))}, warehouse {fmt_bytes(scale.get('warehouse_bytes'))})"
        )
        out.append(text_table(HEADER, stage_rows(scale), "lrrrrrl"))
    ident = next((s["identity"] for s in results.get("scales", {}).values() if "identity" in s), None)
    if ident:
        out.append("\n" + text_table(*identity_table(ident), "lrrrrrl"))
    out.append("\n" + text_table(["target", "measured", "met"], targets(results), "lll"))
    return "\n".join(out)


def identity_table(ident: dict) -> tuple[list[str], list[list[str]]]:
    header = ["matcher", "wall s", "threshold", "precision", "recall", "F1", "notes"]
    rows = []
    d = ident.get("dbt", {})

    def line(label, wall, s, note):
        rows.append([label, wall, "—" if s.get("threshold") is None else f"{s['threshold']:g}",
                     f"{s['precision']:.4f}", f"{s['recall']:.4f}", f"{s['f1']:.4f}", note])  # fmt: skip

    if d.get("best_f1"):
        wall = f"{d['wall_seconds']:.1f} ({d['models_total_seconds']:.1f} in SQL)"
        line("dbt matcher, best-F1 threshold", wall, d["best_f1"], "tie margin 5 + name agreement, as configured")
        line("dbt matcher, as shipped (≥ 13)", "", d["as_shipped"], "int_identity__links incl. group guard")
        if d.get("best_f1_threshold_only"):
            line(
                "dbt matcher, threshold only",
                "",
                d["best_f1_threshold_only"],
                "Splink's rule: best candidate ≥ threshold",
            )
    sp = ident.get("splink", {})
    if sp.get("best_f1"):
        t = sp.get("timings", {})
        wall = f"{sp['wall_seconds']:.1f} (train {t.get('train_lambda', 0) + t.get('train_u', 0) + t.get('train_em', 0):.1f}, predict {t.get('predict', 0):.1f})"
        line("Splink 5 / DuckDB, best-F1 threshold", wall, sp["best_f1"], "m by EM, u by random sampling")
        line("Splink + dbt's tie margin", "", sp["best_f1_with_tie_margin"], "same margin rule (5 bits) added")
    elif sp.get("error"):
        rows.append(["Splink", f"{sp['wall_seconds']:.1f}", "", "", "", "", "FAILED"])
    return header, rows


def targets(results: dict) -> list[list[str]]:
    scales = results.get("scales", {})
    out = []

    def met(ok):
        return "—" if ok is None else ("yes" if ok else "**no**")

    s1 = scales.get("1")
    if s1:
        af = s1.get("airflow")
        bare = bare_total(s1)
        e2e = af["seconds"] if af and af.get("ok") else None
        out.append(["scale 1 month end to end ≤ 90 s (Airflow run)",
                    f"{fmt_seconds(e2e)} s (bare {fmt_seconds(bare)} s)", met(None if e2e is None else e2e <= 90)])  # fmt: skip
    for key, s in scales.items():
        af, bare = s.get("airflow"), bare_total(s)
        if af and af.get("ok") and bare:
            r = af["seconds"] / bare
            out.append([f"Airflow ≤ 1.5× bare (scale {key})", f"{r:.2f}×", met(r <= 1.5)])
    s10, s100 = scales.get("10"), scales.get("100")
    if s100:
        d100 = dbt_total(s100)
        out.append(
            [
                "scale 100 dbt build ≤ 10 min",
                (fmt_seconds(d100) + ("" if d100 >= 600 else " s")) if d100 else "not measured",
                met(None if d100 is None else d100 <= 600),
            ]
        )
    if s10 and s100:
        b10, b100 = bare_total(s10), bare_total(s100)
        if b10 and b100:
            out.append(["time(100) / time(10) ≤ 12 (bare month)", f"{b100 / b10:.1f}", met(b100 / b10 <= 12)])
        for stage in ("generate", "load", "dbt identity"):
            a, b = s10["stages"].get(stage), s100["stages"].get(stage)
            if a and b and a.get("ok") and b.get("ok"):
                r = b["seconds"] / a["seconds"]
                out.append([f"time(100) / time(10), {stage}", f"{r:.1f}", met(r <= 12)])
    ident = next((s["identity"] for s in scales.values() if "identity" in s), None)
    if ident and ident.get("splink", {}).get("best_f1") and ident.get("dbt", {}).get("best_f1"):
        d, f_s = ident["dbt"], ident["splink"]["best_f1"]["f1"]
        f_same = (d.get("best_f1_threshold_only") or d["best_f1"])["f1"]
        f_conf = d["best_f1"]["f1"]
        w_d, w_s = d["wall_seconds"], ident["splink"]["wall_seconds"]
        out.append(["identity F1 ≥ Splink's (same decision rule: best candidate ≥ threshold)",
                    f"{f_same:.5f} vs {f_s:.5f}", met(round(f_same, 6) >= round(f_s, 6))])  # fmt: skip
        out.append(["identity F1 ≥ Splink's (dbt with its tie margin and name rule)", f"{f_conf:.5f} vs {f_s:.5f}",
                    met(round(f_conf, 6) >= round(f_s, 6))])  # fmt: skip
        out.append(["identity wall time ≤ Splink's", f"{w_d:.1f} s vs {w_s:.1f} s", met(w_d <= w_s)])
    return out


def busy(m: dict) -> bool:
    """Load average at or above half the cores before or after the run: other jobs were running."""
    loads = []
    for key in ("load_before", "load_after"):
        try:
            loads += [float(x) for x in str(m.get(key) or "").split()]
        except ValueError:
            pass
    return bool(loads) and max(loads) >= 0.5 * (m.get("nproc") or 1)


def _machine_md(m: dict) -> str:
    total = m.get("total_seconds")
    lines = [
        f"- date: {m.get('date')}"
        + (f"; total benchmark time {fmt_seconds(total)}{'' if total >= 600 else ' s'}" if total else ""),
        f"- CPU: {m.get('cpu')} — {m.get('nproc')} cores (nproc); RAM {m.get('ram_gib')} GiB",
        f"- disk: {m.get('disk_total_gib')} GiB, {m.get('disk_free_gib')} GiB free at the start",
        f"- Python {m.get('python')}, PostgreSQL {m.get('postgresql')} (project-local cluster, temp_file_limit 20GB)",
        f"- load average (1/5/15 min) before: {m.get('load_before')}, after: {m.get('load_after')}",
    ]
    if busy(m):
        lines.append(
            "- **shared machine**: other jobs were running (load average at or above half the cores): "
            "single measurements, expect ±20 % on a quiet machine"
        )
    return "\n".join(lines)


def markdown(results: dict) -> str:
    m = dict(results.get("machine", {}))
    m["total_seconds"] = results.get("total_seconds")
    parts = [
        "# Benchmarks",
        "",
        "How the monthly run's cost grows with the town, and how the identity matcher compares with "
        "Splink. Written by `make bench` (`python -m mimamori.bench`, issue 10); the numbers below are "
        "the last run's, measured, not estimated. Nothing here is a test: no test asserts a timing.",
        "",
        "## Machine",
        "",
        _machine_md(m),
        "",
        "## Method",
        "",
        f"- Code measured: `{results.get('code', '?')}` (a `git archive` of that commit in `.local/bench/src`, "
        "plus any `--patch`, unless `--source worktree`), so edits in progress elsewhere in the tree do not leak in.",
        "- Each scale starts from an empty warehouse (the benchmark's own cluster in `.local/bench`, own "
        "ports) and a freshly generated synthetic town (seed "
        f"{results.get('args', {}).get('seed', 42)}, {results.get('args', {}).get('months', 1)} month(s), "
        "measured month 2026-10).",
        "- **Bare** stages call what the DAG's tasks call, without Airflow: `mimamori.synth.generate`, "
        "`pipeline.load_source` per source, `pipeline.raw_gate` (GX), `dbt build` split along the DAG "
        "(`--indirect-selection buildable`, so every test runs once) — *identity* = the seeds and "
        "everything up to `intermediate/identity` and `marts/identity`, *items* = what "
        "`intermediate/items` needs beyond that (`marts.children` included), *scores* = every other "
        "node (judgement, analysis and pseudonymised marts) — "
        "`pipeline.model_gates`, `pipeline.publish_month`. Each stage runs in its own process: "
        "**wall s** is that process's wall time (interpreter and imports included), **peak MiB** its "
        "maximum RSS from `wait4` (dbt: the dbt process), **PostgreSQL MiB** the peak sum of the "
        "server's processes' PSS, sampled every 0.5 s.",
        "- The split dbt build costs two more dbt start-ups (~3–4 s each) than the DAG's single "
        "`dbt build`; the bare month total includes them.",
        "- **Airflow month** is `airflow dags test` of `mimamori_monthly` for the same month right "
        "after the bare stages (same data, warm caches): every task, including the mail task.",
        "- Rows: generate = data rows written; load = rows read → loaded; gates = checks; dbt identity = "
        "records + spine residents → records linked; items = children → judged item rows; scores = "
        "judged item rows → child score rows; publish = rows in `published`.",
        "",
        "## Results",
    ]
    for key, scale in results.get("scales", {}).items():
        parts += [
            "",
            f"### Scale {key}",
            "",
            f"Town on disk {fmt_bytes(scale.get('town_bytes'))} (deleted after measuring); warehouse "
            f"database {fmt_bytes(scale.get('warehouse_bytes'))}; load average before {scale.get('load_before')}, "
            f"after {scale.get('load_after')}.",
            "",
            markdown_table(HEADER[:-1] + ["status"], stage_rows(scale), "lrrrrrl"),
        ]
        slow = []
        for name in DBT:
            row = scale["stages"].get(name)
            if row and row.get("slowest"):
                slow.append(f"{name}: " + ", ".join(f"`{n}` {s:.1f}" for n, s in row["slowest"][:4]))
        if slow:
            parts += ["", "Slowest dbt nodes (s): " + "; ".join(slow) + "."]
        af = scale.get("airflow", {}).get("tasks", {})
        if af.get("tasks"):
            top = sorted(af["tasks"].items(), key=lambda kv: -kv[1]["seconds"])[:6]
            parts += ["", f"Under Airflow, task time span {af.get('span_seconds')} s; longest tasks: "
                      + ", ".join(f"`{t}` {v['seconds']:.1f} s" for t, v in top) + "."]  # fmt: skip
        for name, row in scale["stages"].items():
            if not row.get("ok"):
                err = row.get("error") or " / ".join((row.get("error_tail") or [])[-3:])
                parts += ["", f"**{name} failed**: `{str(err)[:400]}`"]
    ident = next((s["identity"] for s in results.get("scales", {}).values() if "identity" in s), None)
    if ident:
        parts += [
            "",
            "## Identity resolution: dbt matcher vs Splink",
            "",
            f"Month {ident['month']}, the dbt matcher's queue ({fmt_count(ident.get('queue_records'))} records: "
            f"stage 1 {fmt_count(ident.get('queue_by_stage', {}).get('1'))}, stage 2 "
            f"{fmt_count(ident.get('queue_by_stage', {}).get('2'))}; {fmt_count(ident.get('truth_on_spine'))} with "
            f"their true person on the spine) against the spine ({fmt_count(ident.get('export_rows', {}).get('right'))} "
            "residents with the 学齢簿 context), exported after dbt's normalisation. Same blocking rules "
            "(with dbt's max-block-size guard), same comparison levels; Splink's m by EM, u by random "
            "sampling. Precision/recall on the best candidate per record, against the truth, each at "
            "its own best-F1 threshold. dbt wall = `dbt run` of register_pairs, pupil_context, spine_with_context, "
            "school_pairs, links (dbt start-up included); Splink wall = its process (import, load CSV, "
            "train, predict, write).",
            "",
            markdown_table(*identity_table(ident), "lrrrrrl"),
        ]
        sp = ident.get("splink", {})
        if sp.get("pairs") is not None:
            parts += [
                "",
                f"Candidate pairs: dbt {fmt_count(ident['dbt'].get('pairs'))}, Splink {fmt_count(sp['pairs'])}.",
            ]
    parts += ["", "## Targets", "", markdown_table(["target", "measured", "met"], targets(results), "lll"), ""]
    return "\n".join(parts)


def write(doc: Path, results: dict) -> None:
    kept = ""
    if doc.exists():
        text = doc.read_text(encoding="utf-8")
        if KEEP_MARKER in text:
            kept = text.split(KEEP_MARKER, 1)[1]
    doc.write_text(markdown(results) + "\n" + KEEP_MARKER + (kept or "\n"), encoding="utf-8")
