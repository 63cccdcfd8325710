"""
### mimamori 月次処理 (monthly run)

Pulls every holder department's extract for the **run month** from `inbox/<YYYY-MM>/` into raw
PostgreSQL tables (one task group per source of the registry in `include/sources/`), builds
the dbt models, and mails a summary to IT.

* `run_month` (YYYY-MM): the month whose extracts are processed. Scheduled runs (16th of each
  month) default to the month before the logical date (domain.md §8).
* A task that rejects data fails at once (no retries); retries are for transient faults.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset, Param, TaskGroup, dag, task
from airflow.sdk.exceptions import AirflowFailException

from mimamori.ingest.registry import load_registry
from mimamori.settings import get_settings

REGISTRY = load_registry()


def _asset(raw_table: str) -> Asset:
    return Asset(name=f"raw.{raw_table}", uri=f"postgres://warehouse:5432/warehouse/raw/{raw_table}")


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

            @task(task_id="load", outlets=[_asset(f.raw_table) for f in source.files])
            def load(run_month: str, source_name: str = name) -> dict:
                from mimamori.pipeline import DataRejected, load_source

                try:
                    return load_source(get_settings(), source_name, run_month)
                except DataRejected as exc:
                    raise AirflowFailException(str(exc)) from None

            loaded = load(run_month)
            inbox >> loaded
            loads.append(loaded)

    @task
    def build_models(run_month: str) -> dict:
        from mimamori.pipeline import DataRejected
        from mimamori.pipeline import build_models as run

        try:
            return run(get_settings(), run_month)
        except DataRejected as exc:
            raise AirflowFailException(str(exc)) from None

    @task(trigger_rule="all_done", retries=2)
    def notify_it(run_month: str, ti=None) -> None:
        """Mail IT a summary of the month (counts only); runs whatever happened upstream."""
        from mimamori.pipeline import month_counts, send_mail, summary_mail

        settings = get_settings()
        loads = [ti.xcom_pull(task_ids=f"{name}.load") for name in REGISTRY]
        built = ti.xcom_pull(task_ids="build_models")
        failed = [name for name, item in zip(REGISTRY, loads) if not item]
        counts = month_counts(settings, run_month) if built else None
        if failed or not built:
            state = "未完了（取込失敗: " + (", ".join(failed) or "なし") + ("" if built else "、モデル未構築") + "）"
        else:
            state = "成功"
        subject, body = summary_mail(run_month, loads, counts, state)
        send_mail([settings.it_email], subject, body)

    built = build_models(run_month)
    loads >> built
    built >> notify_it(run_month)


mimamori_monthly()
