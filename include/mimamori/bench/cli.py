"""`python -m mimamori.bench`: measure the month stage by stage at several scales (see __init__)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from mimamori.bench import measure
from mimamori.bench.measure import TreeSampler, fmt_mib, fmt_seconds, run_measured

REPO = Path(__file__).resolve().parents[3]
#: Isolated defaults: own state dir and ports (the demo uses .local and 54329/18080/…, tests +100).
DEFAULT_STATE = REPO / ".local" / "bench"
PORTS = {
    "MIMAMORI_PG_PORT": "54929",
    "MIMAMORI_AIRFLOW_PORT": "18680",
    "MIMAMORI_SUPERSET_PORT": "18688",
    "MIMAMORI_SMTP_PORT": "18625",
    "MIMAMORI_DOCS_PORT": "18681",
    "MIMAMORI_CASESCREEN_PORT": "18690",
}
MONTH = "2026-10"
#: dbt build split along the DAG (dbt_project/): together the same nodes as the DAG's one `dbt build`.
#: identity = the seeds and everything up to the identity models; items = what intermediate/items
#: needs beyond that (e.g. marts.children); scores = every other node (judgement and other marts).
_IDENTITY = ["path:seeds", "+path:models/intermediate/identity", "+path:models/marts/identity"]
_ITEMS = ["+path:models/intermediate/items"]
DBT_SPLIT = {
    "dbt identity": ["--select", *_IDENTITY],
    "dbt items": ["--select", *_ITEMS, "--exclude", *_IDENTITY],
    "dbt scores": ["--exclude", *_IDENTITY, *_ITEMS],
}
TEMP_FILE_LIMIT = "20GB"


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def snapshot(state: Path, source: str, rev: str = "HEAD", patches: list[Path] = ()) -> tuple[Path, str]:
    """The code measured: ``head`` = a `git archive` of HEAD in STATE/src (others may be editing
    the work tree while the benchmark runs), ``worktree`` = the repository as it is."""
    import subprocess

    if source == "worktree":
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()  # fmt: skip
        return REPO, f"{commit} + uncommitted work tree"
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", rev], capture_output=True, text=True,
                            check=True).stdout.strip()  # fmt: skip
    src = state / "src"
    stamp = src / ".commit"
    label = commit[:7] + "".join(f" + {p.name}" for p in patches)
    if not (stamp.exists() and stamp.read_text() == label):
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
        (src / ".local").mkdir()
        (src / ".local" / "venv").symlink_to(REPO / ".local" / "venv")
        (src / ".local" / "tools").symlink_to(REPO / ".local" / "tools")
        if (REPO / ".env").exists():
            (src / ".env").symlink_to(REPO / ".env")
        for patch in patches:  # a proposed fix, measured on the copy only (never on the work tree)
            subprocess.run(["patch", "-s", "-p1", "-d", str(src), "-i", str(Path(patch).resolve())], check=True)
        stamp.write_text(label)
    return src, label


def isolate(state: Path, root: Path = REPO) -> None:
    """Point every setting at the benchmark's own state dir and ports (before get_settings)."""
    os.environ["MIMAMORI_ROOT"] = str(root)
    os.environ["MIMAMORI_STATE_DIR"] = str(state)
    os.environ["MIMAMORI_INBOX"] = str(state / "town" / "inbox")
    os.environ["MIMAMORI_QUARANTINE"] = str(state / "quarantine")
    os.environ["MIMAMORI_MAIL_DIR"] = str(state / "mail")
    os.environ["MIMAMORI_ARTIFACTS"] = str(state / "artifacts")
    for key, value in PORTS.items():
        os.environ.setdefault(key, value)
    os.environ.pop("MIMAMORI_WAREHOUSE_DSN", None)
    os.environ["PYTHONPATH"] = str(root / "include")


# --------------------------------------------------------------------------- machine


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def machine(state: Path) -> dict:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = measure.parse_kb_fields(Path("/proc/meminfo").read_text())
    # the state folder may not exist yet (a fresh checkout): its nearest existing parent's disk
    disk = shutil.disk_usage(next(p for p in (state, *state.parents) if p.exists()))
    pg_version = "?"
    try:
        from mimamori.stack import pg

        pg_version = Path(pg.pg_bin()).parent.name
    except Exception:  # noqa: BLE001
        pass
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem.get("MemTotal", 0) / 1024 / 1024, 1),
        "disk_total_gib": round(disk.total / 2**30),
        "disk_free_gib": round(disk.free / 2**30),
        "python": sys.version.split()[0],
        "postgresql": pg_version,
        "load_before": load_average(),
    }


# --------------------------------------------------------------------------- the stages


class Bench:
    def __init__(self, args):
        from mimamori.settings import get_settings

        self.args = args
        self.settings = get_settings()
        self.state = self.settings.state_dir
        self.py = str(REPO / ".local" / "venv" / "airflow" / "bin" / "python")
        self.results: dict = {"machine": machine(self.state), "scales": {}, "args": vars(args)}
        self.sampler_root = None

    # ---- services
    def start_pg(self) -> None:
        from mimamori import db
        from mimamori.stack import pg

        pg.ensure(self.settings)
        with db.connect(self.settings, "postgres", autocommit=True) as conn:
            conn.execute(f"alter system set temp_file_limit = '{TEMP_FILE_LIMIT}'")
            conn.execute("select pg_reload_conf()")
        self.sampler_root = measure.postmaster_pid(pg.data_dir(self.settings))
        say(f"PostgreSQL on 127.0.0.1:{self.settings.pg_port} (state {self.state}, temp_file_limit {TEMP_FILE_LIMIT})")

    def fresh_warehouse(self) -> None:
        """Drop and re-provision the warehouse so each scale starts empty."""
        from psycopg import sql

        from mimamori import db
        from mimamori.stack import pg

        with db.connect(self.settings, "postgres", autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(self.settings.warehouse_db))
            )
        pg.provision(self.settings)
        shutil.rmtree(self.state / "gx", ignore_errors=True)
        shutil.rmtree(self.state / "quarantine", ignore_errors=True)

    def stop(self) -> None:
        from mimamori.stack import pg, procs

        if procs.stop(self.settings, "mailcatcher"):
            say("mail catcher stopped")
        if pg.stop(self.settings):
            say("PostgreSQL stopped")

    # ---- one measured stage
    def _record(self, scale_res: dict, name: str, m, extra: dict | None, pg_peak: int) -> dict:
        row = {
            "seconds": round(m.seconds, 2),
            "max_rss_kib": m.max_rss_kib,
            "pg_pss_kib": pg_peak,
            "ok": m.ok,
            **(extra or {}),
        }
        if not m.ok:
            row["error_tail"] = m.tail[-20:]
        scale_res["stages"][name] = row
        mark = "ok" if m.ok else "FAILED"
        say(
            f"  {name:<13} {fmt_seconds(m.seconds) + ('' if m.seconds >= 600 else ' s'):>10}  peak {fmt_mib(m.max_rss_kib):>6} MiB"
            f"  (PostgreSQL {fmt_mib(pg_peak)} MiB)  {mark}"
        )
        if not m.ok:
            for line in m.tail[-12:]:
                print("      | " + line, flush=True)
        return row

    def stage_proc(self, scale_res: dict, name: str, stage: str, scale: float) -> dict:
        work = self.state / "work"
        work.mkdir(parents=True, exist_ok=True)
        argv = [self.py, str(Path(__file__).with_name("stage.py")), stage, "--month", MONTH, "--work", str(work),
                "--town", str(self.state / "town"), "--scale", str(scale), "--seed", str(self.args.seed),
                "--months", str(self.args.months)]  # fmt: skip
        with TreeSampler(self.sampler_root) as sampler:
            m = run_measured(argv, env=dict(os.environ), log=self._progress if self.args.verbose else None)
        extra = {}
        for line in reversed(m.tail):
            if line.startswith("BENCH_RESULT "):
                extra = json.loads(line[len("BENCH_RESULT ") :])
                break
        if extra.get("ok") is False:
            m.returncode = m.returncode or 1
        return self._record(scale_res, name, m, extra, sampler.peak_kib)

    def _progress(self, line: str) -> None:
        print("      " + line, flush=True)

    def dbt_stage(self, scale_res: dict, name: str, selection: list[str]) -> dict:
        from mimamori import dbt

        variables = {"run_month": MONTH, "run_id": f"bench__{MONTH}", "skipped_sources": []}
        # buildable: a test runs in the first stage where all its parents are built (every test once)
        argv = [str(dbt.executable(self.settings)), "build", "--fail-fast", *selection,
                "--indirect-selection", "buildable", "--vars", json.dumps(variables)]  # fmt: skip
        with TreeSampler(self.sampler_root) as sampler:
            m = run_measured(argv, env=dbt.env(self.settings), cwd=dbt.project_dir(self.settings),
                             log=self._progress if self.args.verbose else None)  # fmt: skip
        extra = {}
        rr = self.state / "dbt" / "target" / "run_results.json"
        if rr.exists():
            data = json.loads(rr.read_text())
            statuses: dict[str, int] = {}
            timings = []
            for item in data.get("results", []):
                statuses[item["status"]] = statuses.get(item["status"], 0) + 1
                if item["unique_id"].startswith(("model.", "seed.")):
                    timings.append((item["unique_id"].split(".")[-1], round(item.get("execution_time") or 0, 2)))
            extra = {"statuses": statuses, "slowest": sorted(timings, key=lambda x: -x[1])[:6],
                     "nodes": sum(statuses.values())}  # fmt: skip
            shutil.copy(rr, self.state / "work" / f"run_results_{name.split()[-1]}.json")
        return self._record(scale_res, name, m, extra, sampler.peak_kib)

    # ---- counts (outside the timed stages)
    def counts(self, scale_res: dict) -> None:
        from mimamori import db

        def one(conn, query: str, rel: str | None = None):
            if rel and not conn.execute("select to_regclass(%s) is not null", (rel,)).fetchone()[0]:
                return None
            return conn.execute(query).fetchone()[0]

        s = scale_res["stages"]
        with db.connect(self.settings, autocommit=True) as conn:
            raw_rows = one(conn, f"select coalesce(sum(rows_loaded), 0) from ingest.file_loads where run_month = '{MONTH}'"
                                 f" and run_id = 'bench__{MONTH}'", "ingest.file_loads")  # fmt: skip
            records = one(
                conn, "select count(*) from intermediate.int_identity__records", "intermediate.int_identity__records"
            )
            spine = one(
                conn, "select count(*) from intermediate.int_identity__spine", "intermediate.int_identity__spine"
            )
            linked = one(conn, "select count(*) filter (where link_status = 'linked') from intermediate.int_identity__links",
                         "intermediate.int_identity__links")  # fmt: skip
            pairs = one(conn, "select (select count(*) from intermediate.int_identity__register_pairs)"
                              " + (select count(*) from intermediate.int_identity__school_pairs)",
                        "intermediate.int_identity__school_pairs")  # fmt: skip
            judged = one(
                conn, "select count(*) from intermediate.int_child_items_judged", "intermediate.int_child_items_judged"
            )
            children = one(
                conn, "select count(*) from intermediate.int_items__children", "intermediate.int_items__children"
            )
            scores = one(conn, "select count(*) from marts.child_scores", "marts.child_scores")
            candidates = one(conn, "select count(*) from marts.candidate_children", "marts.candidate_children")
            published = 0
            for (table,) in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'published'"
                " and table_name <> 'publication'"
            ).fetchall():
                published += conn.execute(f'select count(*) from published."{table}"').fetchone()[0]
            db_bytes = conn.execute("select pg_database_size(current_database())").fetchone()[0]
        if "raw gates" in s:
            s["raw gates"]["rows_in"] = raw_rows
        if "dbt identity" in s:
            s["dbt identity"].update({"rows_in": (records or 0) + (spine or 0), "rows_out": linked,
                                      "spine": spine, "records": records, "pairs": pairs})  # fmt: skip
        if "dbt items" in s:
            s["dbt items"].update({"rows_in": children, "rows_out": judged})
        if "dbt scores" in s:
            s["dbt scores"].update({"rows_in": judged, "rows_out": scores, "candidates": candidates})
        if "publish" in s:
            s["publish"]["rows_out"] = published
        scale_res["warehouse_bytes"] = db_bytes

    # ---- Airflow
    def airflow_month(self, scale_res: dict) -> None:
        from mimamori.stack import airflow
        from mimamori.stack.__main__ import start_mail

        airflow.migrate(self.settings, log=say)
        start_mail(self.settings)
        argv = self.dags_test_argv()
        say("  airflow dags test (the whole month under Airflow) …")
        leave_paused = airflow._pause_for_dags_test(self.settings)  # as make run-month: no second scheduler
        try:
            with TreeSampler(self.sampler_root) as sampler:
                m = run_measured(argv, env=airflow.env(self.settings), timeout=self.args.airflow_timeout)
        finally:
            if not leave_paused:
                airflow.set_paused(self.settings, False)
        row = self._record(scale_res, "airflow month", m, {}, sampler.peak_kib)
        row["tasks"] = self.airflow_tasks()
        scale_res["airflow"] = row
        del scale_res["stages"]["airflow month"]

    def dags_test_argv(self) -> list[str]:
        """The month under `airflow dags test` as `make run-month` runs it: logical date now, the run
        month in the conf (in-process tasks: the bench measures the run, not the executor)."""
        from mimamori.stack import airflow

        return airflow.dags_test_argv(self.settings, MONTH, use_executor=False)

    def airflow_tasks(self) -> dict:
        from mimamori import db

        try:
            with db.connect(self.settings, self.settings.airflow_db) as conn:
                run_id = conn.execute(
                    "select run_id from dag_run where dag_id = 'mimamori_monthly' order by id desc limit 1"
                ).fetchone()[0]
                rows = conn.execute(
                    "select task_id, extract(epoch from end_date - start_date), state from task_instance"
                    " where dag_id = 'mimamori_monthly' and run_id = %s order by start_date",
                    (run_id,),
                ).fetchall()
                span = conn.execute(
                    "select extract(epoch from max(end_date) - min(start_date)) from task_instance"
                    " where dag_id = 'mimamori_monthly' and run_id = %s",
                    (run_id,),
                ).fetchone()[0]
        except Exception as exc:  # noqa: BLE001
            return {"error": str(exc)[:200]}
        tasks = {t: {"seconds": round(float(s or 0), 2), "state": st} for t, s, st in rows}
        return {"tasks": tasks, "span_seconds": round(float(span or 0), 1)}

    # ---- one scale
    def run_scale(self, scale: float) -> dict:
        key = f"{scale:g}"
        res: dict = {"scale": scale, "stages": {}, "load_before": load_average()}
        self.results["scales"][key] = res
        free = shutil.disk_usage(self.state).free
        res["disk_free_before_gib"] = round(free / 2**30, 1)
        say(f"== scale {key}: disk free {free / 2**30:.0f} GiB, load {load_average()} ==")
        self.fresh_warehouse()
        town = self.state / "town"
        shutil.rmtree(town, ignore_errors=True)
        self.stage_proc(res, "generate", "generate", scale)
        res["town_bytes"] = sum(p.stat().st_size for p in town.rglob("*") if p.is_file())
        partial = scale in self.args.partial_scales
        stages = [("load", "load"), ("raw gates", "raw_gate")]
        for name, stage in stages:
            if not res["stages"].get("generate", {}).get("ok"):
                break
            self.stage_proc(res, name, stage, scale)
        ok = all(res["stages"][n]["ok"] for n in ("generate", "load") if n in res["stages"])
        for name, selection in DBT_SPLIT.items():
            if not ok or (partial and name != "dbt identity"):
                break
            ok = self.dbt_stage(res, name, selection)["ok"]
        if ok and not partial:
            for name, stage in (("model gates", "model_gates"), ("publish", "publish")):
                self.stage_proc(res, name, stage, scale)
        self.counts(res)
        if (
            self.args.splink_scale == scale
            and not self.args.skip_identity
            and res["stages"].get("dbt identity", {}).get("ok")
        ):
            self.identity(res)
        if scale in self.args.airflow_scales and not partial and ok:
            self.airflow_month(res)
        res["load_after"] = load_average()
        self.save()
        if not self.args.keep_towns:
            shutil.rmtree(town, ignore_errors=True)
        return res

    def identity(self, res: dict) -> None:
        from mimamori.bench import identity

        splink_py = None
        if not self.args.skip_splink:
            splink_py = ensure_splink_venv(log=say)
        say("  identity side by side (dbt matcher vs Splink/DuckDB) …")
        with TreeSampler(self.sampler_root):
            res["identity"] = identity.compare(self.settings, MONTH, self.state / "town", self.state / "work" / "identity",
                                               splink_py, log=say)  # fmt: skip

    def save(self) -> None:
        self.results["machine"]["load_after"] = load_average()
        path = self.state / "results.json"
        path.write_text(json.dumps(self.results, indent=1, default=str))


def ensure_splink_venv(log=print) -> Path:
    """.local/venv/splink from requirements/splink.lock (uv, as the Makefile does for the others)."""
    import subprocess

    venv = REPO / ".local" / "venv" / "splink"
    lock = REPO / "requirements" / "splink.lock"
    marker = venv / ".synced"
    python = venv / "bin" / "python"
    if marker.exists() and marker.read_text() == lock.read_text():
        return python
    uv = REPO / ".local" / "tools" / "bin" / "uv"
    log(f"installing Splink into {venv} from {lock.name}")
    if not python.exists():
        subprocess.run([str(uv), "venv", "-q", "--python", "python3.11", str(venv)], check=True)
    subprocess.run([str(uv), "pip", "sync", "-q", str(lock)], check=True,
                   env={**os.environ, "VIRTUAL_ENV": str(venv), "UV_COMPILE_BYTECODE": "1"})  # fmt: skip
    marker.write_text(lock.read_text())
    return python


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mimamori.bench", description=__doc__)
    parser.add_argument("--scales", default="1,10,100", help="comma-separated town scales (default 1,10,100)")
    parser.add_argument("--months", type=int, default=1, help="months generated per town (the last one is measured)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE, help=f"own state dir (default {DEFAULT_STATE})")
    parser.add_argument("--airflow-scales", default="1,10", help="scales also run under Airflow (default 1,10)")
    parser.add_argument(
        "--partial-scales",
        default="",
        help="scales measured only up to identity (generate, load, raw gates, dbt identity)",
    )
    parser.add_argument(
        "--splink-scale", type=float, default=10.0, help="scale of the identity comparison (default 10)"
    )
    parser.add_argument("--skip-splink", action="store_true", help="compare nothing with Splink (dbt matcher only)")
    parser.add_argument("--skip-identity", action="store_true", help="no identity comparison at all")
    parser.add_argument("--keep-towns", action="store_true", help="keep the generated towns (deleted by default)")
    parser.add_argument("--keep-running", action="store_true", help="leave the benchmark's PostgreSQL running")
    parser.add_argument("--airflow-timeout", type=float, default=3600)
    parser.add_argument(
        "--source",
        choices=["head", "worktree"],
        default="head",
        help="measure a snapshot of git HEAD (default) or the work tree as it is",
    )
    parser.add_argument("--commit", default="HEAD", help="with --source head: the commit to measure (default HEAD)")
    parser.add_argument(
        "--patch",
        type=Path,
        action="append",
        default=[],
        help="apply this diff to the snapshot before measuring (a proposed fix; repeatable)",
    )
    parser.add_argument("--doc", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the other scales of STATE/results.json (measure some scales in a later run)",
    )
    parser.add_argument("--render-only", action="store_true", help="rewrite the doc from STATE/results.json")
    parser.add_argument("-v", "--verbose", action="store_true", help="stream every stage's output")
    args = parser.parse_args(argv)
    floats = lambda s: [float(x) for x in s.split(",") if x.strip()]  # noqa: E731
    args.scales = floats(args.scales)
    args.airflow_scales = floats(args.airflow_scales)
    args.partial_scales = floats(args.partial_scales)
    state = args.state.resolve()
    state.mkdir(parents=True, exist_ok=True)
    root, code = snapshot(state, args.source, args.commit, args.patch)
    isolate(state, root)
    from mimamori.bench import report

    if args.render_only:
        results = json.loads((state / "results.json").read_text())
        report.write(args.doc, results)
        print(report.console(results))
        return 0
    bench = Bench(args)
    previous = state / "results.json"
    if args.merge and previous.exists():
        old = json.loads(previous.read_text())
        bench.results["scales"] = {k: v for k, v in old.get("scales", {}).items()}
        bench.results["earlier_runs"] = [*old.get("earlier_runs", []), {"machine": old.get("machine"), "code": old.get("code"),
                                         "scales": sorted(old.get("scales", {}))}]  # fmt: skip
    bench.results["code"] = code
    say(f"measuring code {code} from {root}")
    say(f"machine: {bench.results['machine']['nproc']} cores, {bench.results['machine']['ram_gib']} GiB, "
        f"load {bench.results['machine']['load_before']}")  # fmt: skip
    started = time.monotonic()
    try:
        bench.start_pg()
        for scale in args.scales:
            bench.run_scale(scale)
            print(report.console(bench.results), flush=True)
    except KeyboardInterrupt:
        say("interrupted: writing what was measured")
    finally:
        bench.results["total_seconds"] = round(time.monotonic() - started, 1)
        bench.save()
        if not args.keep_running:
            bench.stop()
    report.write(args.doc, bench.results)
    say(f"results: {state / 'results.json'}; report: {args.doc}")
    print(report.console(bench.results))
    return 0
