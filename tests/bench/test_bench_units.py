"""The benchmark's pure functions: parsing, formatting, the F1 sweep (fast, no services)."""

from __future__ import annotations

import sys

import pytest
from mimamori.bench import identity, measure, report


def test_kb_fields_parse_proc_status_and_smaps_rollup():
    text = "Name:\tpostgres\nVmHWM:\t  123456 kB\nVmRSS:\t   2048 kB\nThreads:\t1\nPss:      77 kB\n"
    assert measure.parse_kb_fields(text) == {"VmHWM": 123456, "VmRSS": 2048, "Pss": 77}


def test_time_v_peak_rss():
    out = '\tCommand being timed: "dbt build"\n\tMaximum resident set size (kbytes): 183264\n\tExit status: 0\n'
    assert measure.parse_time_v_max_rss(out) == 183264
    assert measure.parse_time_v_max_rss("nothing here") is None


def test_run_measured_reports_the_childs_own_peak_memory_and_exit_code():
    grow = "b = bytearray(80 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); print('done')"
    m = measure.run_measured([sys.executable, "-c", grow])
    assert m.ok and m.tail == ["done"]
    assert m.max_rss_kib > 80 * 1024
    assert measure.run_measured([sys.executable, "-c", "raise SystemExit(3)"]).returncode == 3


def test_formatting():
    assert measure.fmt_seconds(12.345) == "12.3"
    assert measure.fmt_seconds(900) == "15.0 min"
    assert measure.fmt_seconds(None) == "—"
    assert measure.fmt_mib(2048) == "2"
    assert measure.fmt_mib(None) == "—"
    assert measure.fmt_bytes(512) == "512 B"
    assert measure.fmt_bytes(3 * 1024**3) == "3.0 GiB"
    assert measure.fmt_count(1234567) == "1,234,567"


def test_text_table_aligns_wide_japanese_characters():
    table = measure.text_table(["file", "rows"], [["学齢簿.csv", "12"], ["x", "1,234"]])
    lines = table.splitlines()
    assert lines[1] == "----------  -----"
    assert lines[2] == "学齢簿.csv     12"  # 学齢簿 counts 6 columns: the number lines up
    assert lines[3] == "x           1,234"


def test_markdown_table_escapes_pipes():
    md = measure.markdown_table(["a", "b"], [["x|y", "1"]])
    assert md.splitlines() == ["| a | b |", "|---|---:|", "| x\\|y | 1 |"]


def test_best_candidate_runner_up_and_ties_break_on_the_smaller_id():
    pairs = [("r1", "p2", 20.0, True), ("r1", "p1", 20.0, True), ("r1", "p3", 5.0, False), ("r2", "p9", 3.0, False)]
    best = identity.best_candidates(pairs)
    assert best["r1"] == ("p1", 20.0, 20.0, True)
    assert best["r2"] == ("p9", 3.0, None, False)


def test_sweep_finds_the_best_f1_threshold():
    best = {"a": ("p1", 30.0, None, True), "b": ("p2", 20.0, None, True), "c": ("pX", 10.0, None, True)}
    truth = {"a": "p1", "b": "p2", "c": "p3", "d": "p4"}  # d has no candidate at all
    top, curve = identity.sweep(best, truth, spine={"p1", "p2", "p3", "p4"})
    assert top.threshold == 20.0 and top.links == 2 and top.true_positive == 2
    assert top.precision == 1.0 and top.recall == pytest.approx(0.5)
    assert identity.at_threshold(curve, 10.0).links == 3


def test_sweep_applies_tie_margin_and_name_rule():
    best = {"a": ("p1", 30.0, 28.0, True), "b": ("p2", 20.0, None, False)}
    truth = {"a": "p1", "b": "p2"}
    top, _ = identity.sweep(best, truth, spine={"p1", "p2"}, tie_margin=5, need_name=True)
    assert top.links == 0 and top.recall == 0.0


def test_export_sql_names_one_block_key_per_rule_with_the_size_guard():
    left, right = identity.export_sql([["birth_date"], ["birth_year", "given_norm"]], 200)
    for sql in (left, right):
        assert "as b0" in sql and "as b1" in sql and "having count(*) > 200" in sql


def test_report_targets_and_ratio():
    stage = lambda s: {"seconds": s, "ok": True}  # noqa: E731
    stages = {n: stage(10.0) for n in report.STAGE_ORDER}
    results = {
        "scales": {
            "1": {"stages": stages, "airflow": {"seconds": 105.0, "ok": True}},
        }
    }
    assert report.bare_total(results["scales"]["1"]) == 70.0
    rows = {r[0]: r for r in report.targets(results)}
    assert rows["scale 1 month end to end ≤ 90 s (Airflow run)"][2] == "**no**"
    assert rows["Airflow ≤ 1.5× bare (scale 1)"][1:] == ["1.50×", "yes"]
    md = report.markdown(results)
    assert "## Targets" in md and "Airflow month (dags test)" in md


def test_write_keeps_hand_written_notes_below_the_marker(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("STALE-TABLE\n" + report.KEEP_MARKER + "\n## Profiling\nnotes\n", encoding="utf-8")
    report.write(doc, {"scales": {}})
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks") and text.endswith("## Profiling\nnotes\n") and "STALE-TABLE" not in text


def test_busy_machine_is_flagged_from_the_load_average():
    assert report.busy({"nproc": 2, "load_before": "0.20 0.30 0.40", "load_after": "1.10 0.9 0.8"})
    assert not report.busy({"nproc": 2, "load_before": "0.20 0.30 0.40", "load_after": "0.5 0.4 0.3"})
    assert not report.busy({"nproc": 2})


def test_the_bench_runs_the_month_with_logical_date_now_like_run_month():
    """Not a past 16th: `dags test` records that as the run's start (the UI showed weeks as the
    duration, and a second attempt at the same date replaced the first one's record)."""
    import argparse
    import datetime as dt

    from mimamori.bench.cli import MONTH, Bench
    from mimamori.stack import airflow

    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    argv = Bench(argparse.Namespace()).dags_test_argv()
    after = dt.datetime.now(dt.UTC)
    assert argv[1:4] == ["dags", "test", airflow.DAG_ID]
    logical = dt.datetime.fromisoformat(argv[4])
    assert before <= logical <= after
    assert argv[argv.index("--conf") + 1] == f'{{"run_month": "{MONTH}"}}'
    made = airflow.dags_test_argv(Bench(argparse.Namespace()).settings, MONTH)
    assert "--use-executor" in made and "--use-executor" not in argv
