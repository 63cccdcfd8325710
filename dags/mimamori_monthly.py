"""
### mimamori 月次処理 (monthly run)

For the **run month**: load every holder department's extract from `inbox/<YYYY-MM>/` into raw
PostgreSQL tables (one task group per source of `include/sources/`), gate them with Great
Expectations, build the dbt models (identity, items, scores, candidates), gate the results,
publish the month atomically, e-mail each failing source's data owner and IT, write the
month's transparency report and purge what is past its retention period.

* `run_month` (YYYY-MM): the month whose extracts are processed. Scheduled runs (the 16th)
  default to the month before the logical date (domain.md §8).
* Set-up leaves the DAG unpaused; the first scheduled run is the coming 16th (never one right
  away). `make run-month` pauses it while its own run goes (docs/manual-it.md §1).
* A task that rejects data raises AirflowFailException and fails at once; the one retry every
  task has is for transient faults (a dropped connection).
* Every step records its outcome for **this attempt** (the run id; a cleared run is a new
  attempt). Publication takes one verdict over this attempt's steps: every source loaded and
  gated in this run (policy `skip` excepted), this run's build, its gates. Otherwise nothing is
  published and the dashboards keep showing the last published month.
* `month_verdict` ends the run: success only if this attempt published and every step after
  publication ran, so the IT mail, `make run-month`'s exit status and the run's state agree.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, CronTriggerTimetable, Param, TaskGroup, dag, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from mimamori.ingest.registry import load_registry
from mimamori.settings import get_settings

REGISTRY = load_registry()


def _attempt(dag_run) -> str:
    """This try of the month: the run id (a cleared run is a new attempt)."""
    from mimamori.attempts import attempt_id

    return attempt_id(dag_run.run_id, getattr(dag_run, "clear_number", 0))


def _asset(schema: str, table: str) -> Asset:
    return Asset(name=f"{schema}.{table}", uri=f"postgres://warehouse:5432/warehouse/{schema}/{table}")


def _step(name: str, run_month: str, dag_run, *, rejects: bool = True):
    """Run ``mimamori.pipeline.<name>`` for this attempt; with ``rejects``, data it rejects fails the
    task at once (no retry)."""
    from mimamori import pipeline

    step = getattr(pipeline, name)
    if not rejects:
        return step(get_settings(), run_month, _attempt(dag_run))
    try:
        return step(get_settings(), run_month, _attempt(dag_run))
    except pipeline.DataRejected as exc:
        raise AirflowFailException(str(exc)) from None


@task
def resolve_run_month(params=None, logical_date=None, dag_run=None) -> str:
    from mimamori.months import resolve_run_month as resolve

    requested = (dag_run.conf or {}).get("run_month") if dag_run else None
    return resolve(requested or (params or {}).get("run_month"), logical_date)


@task
def check_inbox(run_month: str, dag_run=None) -> dict:
    """Lists the inbox and opens this attempt (an attempt id already used is refused)."""
    return _step("check_inbox", run_month, dag_run)


def source_loads(run_month, inbox) -> list:
    """One task group per source of the registry, each with its load task after the inbox check."""
    loads = []
    for name, source in REGISTRY.items():
        with TaskGroup(group_id=name, tooltip=source.department):

            @task(task_id="load", outlets=[_asset("raw", f.raw_table) for f in source.files])
            def load(run_month: str, source_name: str = name, dag_run=None) -> dict:
                from mimamori.pipeline import DataRejected, SourceSkipped, load_source

                try:
                    return load_source(get_settings(), source_name, run_month, _attempt(dag_run))
                except SourceSkipped as exc:
                    raise AirflowSkipException(str(exc)) from None
                except DataRejected as exc:
                    raise AirflowFailException(str(exc)) from None

            loaded = load(run_month)
            inbox >> loaded
            loads.append(loaded)
    return loads


@task(trigger_rule="all_done")
def raw_gate(run_month: str, ti=None, dag_run=None) -> dict:
    """Great Expectations on every source this attempt loaded; fails when a blocking source is bad."""
    from mimamori.pipeline import raw_gate as run

    out = run(get_settings(), run_month, _attempt(dag_run))
    ti.xcom_push(key="gate", value=out)  # kept even when the gate fails
    if out["decision"]["blocking"]:
        raise AirflowFailException("raw gate: blocking sources " + ", ".join(out["decision"]["blocking"]))
    return out


@task
def build_models(run_month: str, raw: dict, dag_run=None) -> dict:
    """dbt build on this attempt's raw rows (the sources to skip come from its recorded steps)."""
    return _step("build_models", run_month, dag_run)


@task
def model_gates(run_month: str, built: dict, ti=None, dag_run=None) -> dict:
    """Identity and marts gates on the built models."""
    from mimamori.pipeline import model_gates as run

    out = run(get_settings(), run_month, _attempt(dag_run))
    ti.xcom_push(key="gate", value=out)  # kept even when the gate fails
    if out["decision"]["blocking"] or not out["decision"]["publish"]:
        raise AirflowFailException("model gates: " + "; ".join(out["decision"]["reasons"]))
    return out


@task(outlets=[_asset("published", "publication")])
def publish(run_month: str, raw: dict, models: dict, dag_run=None) -> dict:
    """Publishes only what this attempt's verdict allows (checked again inside the transaction)."""
    return _step("publish_month", run_month, dag_run)


@task
def transparency_report(run_month: str, published: dict, dag_run=None) -> dict:
    """The month's transparency report (HTML and PDF, aggregates only) for the privacy council."""
    return _step("transparency_report", run_month, dag_run, rejects=False)


@task
def retention_purge(run_month: str, published: dict, dag_run=None) -> dict:
    """Superseded attempts' raw rows, and what is past its retention period (counts audited)."""
    return _step("retention", run_month, dag_run, rejects=False)


@task(trigger_rule="all_done", retries=2)
def send_alerts(run_month: str, dag_run=None) -> list:
    """One mail per failing source to its data owners and a summary to IT; runs whatever happened."""
    return _step("send_alerts", run_month, dag_run, rejects=False)


@task(trigger_rule="all_done")
def month_verdict(run_month: str, dag_run=None) -> dict:
    """The run's end state, from the database: fails unless this attempt published and every step after it ran."""
    return _step("month_verdict", run_month, dag_run)


@dag(
    dag_id="mimamori_monthly",
    # The 16th, 06:00 UTC (MIMAMORI_MONTHLY_SCHEDULE). Set-up leaves the DAG unpaused, so the first
    # scheduled run must be the coming 16th, never the latest past one: Airflow 3's cron timetable
    # with a start_date and catchup=False runs the latest past tick as soon as the DAG is unpaused,
    # and run_immediately=False still does so within 10 % of the interval (apache/airflow#64162).
    # Hence no start_date and run_immediately=timedelta(0) (tests/dags/test_dag_integrity.py).
    schedule=CronTriggerTimetable(get_settings().monthly_schedule, timezone="UTC", run_immediately=timedelta(0)),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["mimamori", "monthly"],
    params={
        "run_month": Param(
            None,
            type=["null", "string"],
            pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$",
            description="処理対象月 YYYY-MM（空欄なら論理日付の前月）",
        )
    },
    default_args={"owner": "joho-system", "retries": 1, "retry_delay": timedelta(minutes=1)},
)
def mimamori_monthly():
    run_month = resolve_run_month()
    inbox = check_inbox(run_month)
    loads = source_loads(run_month, inbox)
    raw = raw_gate(run_month)
    loads >> raw
    built = build_models(run_month, raw)
    models = model_gates(run_month, built)
    published = publish(run_month, raw, models)
    report = transparency_report(run_month, published)
    purged = retention_purge(run_month, published)
    report >> purged  # the report counts the month before anything is purged
    alerts = send_alerts(run_month)
    [published, report, purged] >> alerts  # the IT summary reports every step, publication included
    verdict = month_verdict(run_month)
    [inbox, *loads, raw, built, models, published, report, purged, alerts] >> verdict


mimamori_monthly()
