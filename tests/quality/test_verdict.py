"""One verdict per attempt (issue 16): publication, the IT summary and the run's end state are
decided from THIS attempt's recorded steps and ``published.publication`` — never from another
attempt's rows, never from a step that did not happen.

Fast, on the real test cluster: the steps are recorded as the pipeline records them; months
1998-xx and schema ``qa_verdict`` are these tests' own.
"""

from __future__ import annotations

import dataclasses

import pytest
from mimamori import attempts, pipeline

MONTH = "1998-04"
SCHEMA = "qa_verdict"


@pytest.fixture()
def steps(warehouse):
    """A loader connection with a clean slate for MONTH; yields a function recording a step."""
    from mimamori.ingest.load import ensure_ingest_tables
    from mimamori.stack import pg

    def clean():
        with pg.connect(warehouse, autocommit=True) as su:
            for table in ("run_steps", "file_loads", "rejections"):
                su.execute(f"delete from ingest.{table} where run_month = %s", (MONTH,))
            if su.execute("select to_regclass('published.publication') is not null").fetchone()[0]:
                su.execute("delete from published.publication where run_month = %s", (MONTH,))
            su.execute(f"drop schema if exists {SCHEMA} cascade")

    with pg.connect(warehouse, role="loader", autocommit=True) as conn:
        ensure_ingest_tables(conn)
        clean()

        def record(run_id, step, status, source="", detail=None):
            attempts.record_step(conn, MONTH, run_id, step, status, source=source, detail=detail)

        yield record
    clean()


@pytest.fixture()
def reader(warehouse):
    from mimamori.stack import pg

    with pg.connect(warehouse, role="transformer", autocommit=True) as conn:
        yield conn


def _complete(record, registry, run_id: str, *, skipped=(), relations=None) -> None:
    """Every step of a good attempt up to the marts gate."""
    for name in registry:
        record(run_id, "load", "loaded", name)
        record(run_id, "raw_gate", "passed", name)
        record(run_id, "identity_gate", "passed", name)
    record(run_id, "build", "ok", detail={"skipped_sources": list(skipped), "relations": relations or {}})
    record(run_id, "marts_gate", "passed")


def test_a_complete_attempt_may_publish(steps, reader, registry):
    _complete(steps, registry, "att-good")
    v = attempts.verdict(reader, MONTH, "att-good", registry)
    assert v.publish and not v.reasons and not v.blocking


@pytest.mark.parametrize(
    "damage, blocking, step",
    [
        (lambda r: r("att", "load", "error", "fukushi"), ["fukushi"], "load"),
        (lambda r: r("att", "load", "rejected", "gakko"), ["gakko"], "load"),
        (lambda r: r("att", "raw_gate", "failed", "jumin"), ["jumin"], "raw_gate"),
        (lambda r: r("att", "identity_gate", "not_validated", "kodomo_katei"), ["kodomo_katei"], "identity_gate"),
        (lambda r: r("att", "build", "failed"), [], "build"),
        (lambda r: r("att", "marts_gate", "failed"), [], "marts_gate"),
    ],
)
def test_any_failed_step_of_this_attempt_refuses(steps, reader, registry, damage, blocking, step):
    _complete(steps, registry, "att")
    damage(steps)
    v = attempts.verdict(reader, MONTH, "att", registry)
    assert not v.publish and v.blocking == blocking
    assert [r["step"] for r in v.reasons] == [step]


def test_steps_of_another_attempt_count_for_nothing(steps, reader, registry, warehouse):
    """The issue's case: a source whose load crashed in this attempt (no step of it), while an
    earlier attempt of the month loaded and gated it. The earlier attempt's steps are not this one's."""
    from mimamori.stack import pg

    _complete(steps, registry, "att-earlier")
    _complete(steps, registry, "att-now")
    with pg.connect(warehouse, autocommit=True) as su:
        su.execute(
            "delete from ingest.run_steps where run_month = %s and run_id = 'att-now' and source = 'fukushi'", (MONTH,)
        )
    v = attempts.verdict(reader, MONTH, "att-now", registry)
    assert not v.publish and v.blocking == ["fukushi"]
    assert v.reasons[0]["status"] is None  # "未実行（この試行では記録なし）"
    assert attempts.verdict(reader, MONTH, "att-earlier", registry).publish


def test_the_raw_gate_does_not_validate_another_attempts_rows(steps, warehouse, registry):
    from mimamori import quality
    from mimamori.stack import pg

    spec = registry["fukushi"].files[0]
    with pg.connect(warehouse, role="loader", autocommit=True) as loader:
        loader.execute(
            "insert into ingest.file_loads (run_month, source, file, raw_table, run_id, rows_read, rows_loaded,"
            " sha256) values (%s, 'fukushi', %s, %s, 'att-earlier', 3, 3, 'x')",
            (MONTH, spec.file, spec.raw_table),
        )
    result = quality.validate_raw(warehouse, MONTH, ["fukushi"], run_id="att-now", registry=registry)["fukushi"]
    assert (result.success, result.skipped, result.reason, result.run_id) == (False, True, "not_loaded", "att-now")


def test_skip_policy_lets_only_a_data_rejection_through(steps, reader, registry):
    skip = {**registry, "fukushi": dataclasses.replace(registry["fukushi"], on_failure="skip")}
    _complete(steps, skip, "att", skipped=["fukushi"])
    steps("att", "load", "rejected", "fukushi")
    v = attempts.verdict(reader, MONTH, "att", skip)
    assert v.publish and v.skipped_sources == ["fukushi"]
    # a crash is not a data rejection: it blocks whatever the policy
    steps("att", "load", "error", "fukushi")
    assert attempts.verdict(reader, MONTH, "att", skip).blocking == ["fukushi"]
    # a skip-policy source that failed after the build (which read it): the marts hold its items
    steps("att", "load", "loaded", "fukushi")
    steps("att", "build", "ok", detail={"skipped_sources": [], "relations": {}})
    steps("att", "identity_gate", "failed", "fukushi")
    v = attempts.verdict(reader, MONTH, "att", skip)
    assert not v.publish and [r["status"] for r in v.reasons if r["step"] == "build"] == ["stale_skip"]


def test_publish_refuses_without_this_attempts_steps_and_says_so(steps, reader, registry, settings):
    _complete(steps, registry, "att-earlier")
    with pytest.raises(pipeline.DataRejected, match="refused"):
        pipeline.publish_month(settings, MONTH, "att-crashed")
    step = reader.execute(
        "select status from ingest.run_steps where run_month = %s and run_id = 'att-crashed' and step = 'publish'",
        (MONTH,),
    ).fetchone()
    assert step == ("refused",)
    assert attempts.publication_of(reader, MONTH, "att-crashed") is None


def test_marts_rebuilt_after_this_attempts_build_are_refused(steps, reader):
    """The marts must be the very relations this attempt's build made: locked, then compared."""
    reader.execute(f"create schema {SCHEMA}")
    reader.execute(f"create table {SCHEMA}.children as select 1 as person_id")
    rel = f"{SCHEMA}.children"
    built = {rel: reader.execute("select to_regclass(%s)::oid", (rel,)).fetchone()[0]}
    with reader.transaction():
        pipeline.check_built(reader, built, [rel])
    reader.execute(f"drop table {rel}")
    reader.execute(f"create table {SCHEMA}.children as select 2 as person_id")  # another build's table
    with pytest.raises(pipeline.Refused, match="rebuilt"), reader.transaction():
        pipeline.check_built(reader, built, [rel])
    with pytest.raises(pipeline.Refused, match="not built"), reader.transaction():
        pipeline.check_built(reader, {}, [rel])


def _publish_row(warehouse, run_id: str) -> None:
    from mimamori import publish
    from mimamori.stack import pg

    with pg.connect(warehouse, role="transformer", autocommit=True) as conn:
        for stmt in publish.PUBLICATION_DDL.split(";"):
            conn.execute(stmt)
        conn.execute(
            "insert into published.publication (run_month, tables, run_id) values (%s, '{}', %s)", (MONTH, run_id)
        )


def test_the_end_state_agrees_with_what_was_published(steps, reader, registry, settings, warehouse):
    # not published: the verdict task fails, naming why
    _complete(steps, registry, "att")
    steps("att", "publish", "refused")
    with pytest.raises(pipeline.DataRejected, match="was not published"):
        pipeline.month_verdict(settings, MONTH, "att")
    # published, but a step after publication failed: the run fails and says it was published
    _publish_row(warehouse, "att")
    steps("att", "publish", "published")
    steps("att", "report", "error", detail={"error": "OSError"})
    steps("att", "retention", "ok")
    steps("att", "alerts", "ok")
    with pytest.raises(pipeline.DataRejected, match="was published by attempt att, but"):
        pipeline.month_verdict(settings, MONTH, "att")
    out = attempts.outcome(reader, MONTH, "att", registry)
    assert out["published"] and [r["step"] for r in out["failed_steps"]] == ["report"]
    # everything done: success
    steps("att", "report", "ok")
    assert pipeline.month_verdict(settings, MONTH, "att")["published"]
    # a publication row of ANOTHER attempt does not make this one published
    assert not attempts.outcome(reader, MONTH, "att-other", registry)["published"]


def test_a_reused_attempt_id_is_refused(steps, settings):
    steps("att-used", "load", "loaded", "jumin")
    with pytest.raises(pipeline.DataRejected, match="already has recorded steps"):
        pipeline.check_inbox(settings, MONTH, "att-used")
    assert pipeline.check_inbox(settings, MONTH, "att-fresh")["run_id"] == "att-fresh"
    assert pipeline.check_inbox(settings, MONTH, "att-fresh")["run_id"] == "att-fresh"  # its own retry


def test_a_machinery_error_is_recorded_by_class_and_fails_the_step(steps, reader, settings):
    with pytest.raises(pipeline.StepFailed) as exc:
        with pipeline._step(settings, MONTH, "att", "report"):
            raise RuntimeError("見守　花子 2015-04-01")
    assert "RuntimeError" in str(exc.value) and "花子" not in str(exc.value) and exc.value.__cause__ is None
    status, detail = reader.execute(
        "select status, detail from ingest.run_steps where run_month = %s and run_id = 'att' and step = 'report'",
        (MONTH,),
    ).fetchone()
    assert status == "error" and detail == {"error": "RuntimeError"}
