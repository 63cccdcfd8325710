"""
### mimamori 月次処理 (monthly run)

For the **run month**: load every holder department's extract from `inbox/<YYYY-MM>/` into raw
PostgreSQL tables (one task group per source of `include/sources/`), gate them with Great
Expectations, build the dbt models (identity, items, scores, candidates), gate the results,
publish the month atomically, e-mail each failing source's data owner and IT, write the
month's transparency report and purge what is past its retention period.

* `run_month` (YYYY-MM): the month whose extracts are processed. Scheduled runs (the 16th)
  default to the month before the logical date (domain.md §8).
* A task that rejects data raises AirflowFailException and fails at once; the one retry every
  task has is for transient faults (a dropped connection).
* Nothing is published unless every gate passed (sources with policy `skip` excepted): the
  dashboards keep showing the last published month.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset, Param, TaskGroup, dag, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from mimamori.ingest.registry import load_registry
from mimamori.settings import get_settings

REGISTRY = load_registry()


def _asset(schema: str, table: str) -> Asset:
    return Asset(name=f"{schema}.{table}", uri=f"postgres://warehouse:5432/warehouse/{schema}/{table}")


@dag(
    dag_id="mimamori_monthly",
    schedule="0 6 16 * *",
    start_date=datetime(2024, 4, 1),
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
    @task
    def resolve_run_month(params=None, logical_date=None, dag_run=None) -> str:
        from mimamori.months import resolve_run_month as resolve

        requested = (dag_run.conf or {}).get("run_month") if dag_run else None
        return resolve(requested or (params or {}).get("run_month"), logical_date)

    @task
    def check_inbox(run_month: str) -> dict:
        from mimamori.pipeline import check_inbox as run

        return run(get_settings(), run_month)

    run_month = resolve_run_month()
    inbox = check_inbox(run_month)

    loads = []
    for name, source in REGISTRY.items():
        with TaskGroup(group_id=name, tooltip=source.department):

            @task(task_id="load", outlets=[_asset("raw", f.raw_table) for f in source.files])
            def load(run_month: str, source_name: str = name) -> dict:
                from mimamori.pipeline import DataRejected, SourceSkipped, load_source

                try:
                    return load_source(get_settings(), source_name, run_month)
                except SourceSkipped as exc:
                    raise AirflowSkipException(str(exc)) from None
                except DataRejected as exc:
                    raise AirflowFailException(str(exc)) from None

            loaded = load(run_month)
            inbox >> loaded
            loads.append(loaded)

    @task(trigger_rule="all_done")
    def raw_gate(run_month: str, ti=None) -> dict:
        """Great Expectations on every loaded source; fails when a blocking source is bad."""
        from mimamori.pipeline import raw_gate as run

        out = run(get_settings(), run_month)
        ti.xcom_push(key="gate", value=out)  # kept even when the gate fails
        if out["decision"]["blocking"]:
            raise AirflowFailException("raw gate: blocking sources " + ", ".join(out["decision"]["blocking"]))
        return out

    @task
    def build_models(run_month: str, raw: dict) -> dict:
        from mimamori.pipeline import DataRejected
        from mimamori.pipeline import build_models as run

        try:
            return run(get_settings(), run_month, raw["decision"]["skipped_sources"])
        except DataRejected as exc:
            raise AirflowFailException(str(exc)) from None

    @task
    def model_gates(run_month: str, built: dict, ti=None) -> dict:
        """Identity and marts gates on the built models."""
        from mimamori.pipeline import model_gates as run

        out = run(get_settings(), run_month)
        ti.xcom_push(key="gate", value=out)  # kept even when the gate fails
        if out["decision"]["blocking"]:
            raise AirflowFailException("model gates: blocking " + ", ".join(out["decision"]["blocking"]))
        return out

    @task(outlets=[_asset("published", "publication")])
    def publish(run_month: str, raw: dict, models: dict) -> dict:
        from mimamori.pipeline import DataRejected, publish_month

        try:
            return publish_month(get_settings(), run_month, [raw, models])
        except DataRejected as exc:
            raise AirflowFailException(str(exc)) from None

    @task(trigger_rule="all_done", retries=2)
    def send_alerts(run_month: str, ti=None, dag_run=None) -> list:
        """One mail per failing source to its data owners and a summary to IT; runs whatever happened."""
        from mimamori.pipeline import send_alerts as run

        gates = [ti.xcom_pull(task_ids="raw_gate", key="gate"), ti.xcom_pull(task_ids="model_gates", key="gate")]
        return run(get_settings(), run_month, gates, dag_run.run_id)

    @task
    def transparency_report(run_month: str, published: dict) -> dict:
        """The month's transparency report (HTML and PDF, aggregates only) for the privacy council."""
        from mimamori.report import build_report

        html, pdf = build_report(get_settings(), run_month)
        return {"html": str(html), "pdf": str(pdf)}

    @task
    def retention_purge(run_month: str, published: dict) -> dict:
        """Delete what is past its retention period (counts audited in casework.purge_log)."""
        from mimamori.retention import purge

        out = purge(get_settings(), run_month)
        return {"total": out["total"], "deleted": {k: v for k, v in out["deleted"].items() if v}}

    @task(trigger_rule="one_failed")
    def month_failed() -> None:
        """Marks the run failed when any task failed (send_alerts alone would make it green)."""
        raise AirflowFailException("one or more tasks failed: the month was not published")

    raw = raw_gate(run_month)
    loads >> raw
    built = build_models(run_month, raw)
    models = model_gates(run_month, built)
    published = publish(run_month, raw, models)
    alerts = send_alerts(run_month)
    published >> alerts
    report = transparency_report(run_month, published)
    purged = retention_purge(run_month, published)
    report >> purged  # the report counts the month before anything is purged
    [*loads, raw, built, models, published, alerts, report, purged] >> month_failed()


mimamori_monthly()
