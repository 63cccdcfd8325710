"""Every DAG imports, is tagged, retries transient faults, and has no cycle (Airflow 3 API)."""

from pathlib import Path

import pytest

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dagbag(airflow_ready):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_every_dag_has_tags_owner_and_retries(dagbag):
    assert dagbag.dags, "no DAG found"
    for dag in dagbag.dags.values():
        assert dag.tags, dag.dag_id
        assert dag.doc_md, dag.dag_id
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag.dag_id}.{task.task_id} has no retries"
            assert task.owner == "joho-system", task.task_id


def test_monthly_dag_shape(dagbag):
    from mimamori.ingest.registry import load_registry

    dag = dagbag.dags["mimamori_monthly"]
    ids = set(dag.task_ids)
    for source in load_registry():
        assert f"{source}.load" in ids
    assert {
        "resolve_run_month",
        "check_inbox",
        "raw_gate",
        "build_models",
        "model_gates",
        "publish",
        "send_alerts",
        "transparency_report",
        "retention_purge",
        "month_verdict",
    } <= ids
    from airflow.serialization.serialized_objects import DagSerialization

    # the 16th, 06:00 UTC, as the scheduler reads it (MIMAMORI_MONTHLY_SCHEDULE unset in the suite)
    assert DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag)).timetable.summary == "0 6 16 * *"
    assert dag.params["run_month"] is None
    # No cycles: a topological sort covers every task.
    assert len(dag.topological_sort()) == len(dag.tasks)
    # Alerts go out, after publication and what follows it, whatever happened upstream; the verdict
    # task runs last, after every other task, and is the run's only leaf: it decides the end state.
    assert dag.get_task("send_alerts").trigger_rule == "all_done"
    assert dag.get_task("raw_gate").trigger_rule == "all_done"
    assert set(dag.get_task("send_alerts").upstream_task_ids) >= {"publish", "transparency_report", "retention_purge"}
    verdict = dag.get_task("month_verdict")
    assert verdict.trigger_rule == "all_done"
    assert set(verdict.upstream_task_ids) >= set(dag.task_ids) - {"month_verdict", "resolve_run_month"}
    assert [t.task_id for t in dag.leaves] == ["month_verdict"]


def test_loads_publish_their_raw_tables_as_assets(dagbag):
    from mimamori.ingest.registry import load_registry

    dag = dagbag.dags["mimamori_monthly"]
    registry = load_registry()
    for name, source in registry.items():
        task = dag.get_task(f"{name}.load")
        names = {outlet.name for outlet in task.outlets}
        assert names == {f"raw.{f.raw_table}" for f in source.files}


@pytest.mark.parametrize(
    "now",
    [
        "2026-11-16T06:00:01+00:00",  # a second after a 16th's run time
        "2026-11-17T09:00:00+00:00",  # within Airflow's "10 %" window after it (3 days for a month)
        "2026-12-07T05:00:00+00:00",  # any day of the month
        "2026-12-16T05:59:00+00:00",  # just before the next
    ],
)
def test_unpausing_never_runs_a_past_16th_at_once(dagbag, now):
    """Set-up leaves the DAG unpaused (docs/manual-it.md §1): the scheduler's first run of it must be
    the coming 16th, never the latest past one (which would re-run the month before it right away).

    Computed as the scheduler does, on the DAG as serialized for it, with no earlier scheduled run
    and `now` fixed. With a start_date and catchup=False, Airflow 3's cron timetable picks the
    latest past tick; with run_immediately=False it still does within 10 % of the interval
    (apache/airflow#64162)."""
    from unittest import mock

    import airflow.timetables.trigger as trigger
    import pendulum
    from airflow.serialization.serialized_objects import DagSerialization

    dag = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dagbag.dags["mimamori_monthly"]))
    assert dag.catchup is False
    t = pendulum.parse(now)
    with mock.patch.object(trigger, "utcnow", return_value=t):
        info = dag.next_dagrun_info(last_automated_run_info=None)
    coming = t.replace(day=16, hour=6, minute=0, second=0, microsecond=0)
    if coming <= t:
        coming = coming.add(months=1)
    assert info.run_after == coming, f"at {now} the first scheduled run would be {info.run_after}"
