"""Atomic publish: a failed attempt leaves the last month whole and visible; history keeps months."""

from __future__ import annotations

import psycopg
import pytest

A, B = "1999-01", "1999-02"
SRC = "qa_publish_src"
TABLES = [f"{SRC}.qa_children", f"{SRC}.qa_scores"]
PSEUDO = [f"{SRC}.qa_children_pseudo"]
PUBLISHED = ["published.qa_children", "published.qa_scores", "published_pseudo.qa_children_pseudo"]
HISTORY = ["history.qa_children", "history.qa_scores", "history.pseudo__qa_children_pseudo"]


def _cleanup(conn):
    for rel in PUBLISHED + HISTORY + [p + "__next" for p in PUBLISHED]:
        conn.execute(f"drop table if exists {rel}")
    if conn.execute("select to_regclass('published.publication') is not null").fetchone()[0]:
        conn.execute("delete from published.publication where run_month in (%s, %s)", (A, B))
    conn.execute(f"drop schema if exists {SRC} cascade")


def _build_month(conn, month: str, n: int):
    """The month's marts as dbt would leave them: only that month's rows."""
    for table in ("qa_children", "qa_scores", "qa_children_pseudo"):
        conn.execute(f"drop table if exists {SRC}.{table}")
    conn.execute(
        f"create table {SRC}.qa_children as select 'C' || g as person_id, g %% 19 as age, %s::text as run_month"
        " from generate_series(1, %s) g",
        (month, n),
    )
    conn.execute(
        f"create table {SRC}.qa_scores as select 'C' || g as person_id, 'poverty'::text as type_code,"
        " g %% 7 = 0 as is_flagged, %s::text as run_month from generate_series(1, %s) g",
        (month, n),
    )
    # a pseudonymised mart without run_month: history adds it
    conn.execute(
        f"create table {SRC}.qa_children_pseudo as select md5('C' || g) as child_key, g %% 19 as age"
        " from generate_series(1, %s) g",
        (n,),
    )


@pytest.fixture()
def transformer(warehouse):
    from mimamori import access
    from mimamori.stack import pg

    with pg.connect(warehouse, autocommit=True) as su:
        _cleanup(su)
    with pg.connect(warehouse, role="transformer", autocommit=True) as conn:
        conn.execute(f"create schema {SRC}")
        yield conn
    with pg.connect(warehouse, autocommit=True) as su:
        _cleanup(su)
    # the test's declaration governed every published table for a while: give back the real one
    with pg.connect(warehouse, role="transformer") as conn:
        access.apply_published(conn, access.declaration())


def _declaration():
    """The audience declaration with only the test's relations: staff read the children (their age
    hidden) and the scores, the analyst the pseudonymised children."""
    import dataclasses

    from mimamori import access

    grant = access.RelationGrant
    relations = (
        grant("published", "publication", "staff", frozenset(), None),
        grant("published", "qa_children", "staff", frozenset({"age"}), None),
        grant("published", "qa_scores", "staff", frozenset(), None),
        grant("published_pseudo", "publication", "analyst", frozenset(), None),
        grant("published_pseudo", "qa_children_pseudo", "analyst", frozenset(), None),
    )
    return dataclasses.replace(access.declaration(), relations=relations)


def _counts(conn, table: str) -> dict[str, int]:
    return dict(conn.execute(f"select run_month, count(*) from {table} group by 1").fetchall())


def _latest(conn) -> str:
    return conn.execute(
        "select run_month from published.publication where run_month in (%s, %s) order by published_at desc limit 1",
        (A, B),
    ).fetchone()[0]


def test_publish_is_atomic_and_keeps_history(transformer, settings):
    decl = _declaration()
    from mimamori.publish import PublishError, current_publication, publish
    from mimamori.stack import pg

    conn = transformer
    _build_month(conn, A, 30)
    result = publish(
        settings,
        A,
        TABLES,
        PSEUDO,
        declaration=decl,
        gate_summary={"raw": {"jumin": {"status": "passed", "failed": 0}}},
    )
    assert result.tables == PUBLISHED[:2] and result.pseudo_tables == PUBLISHED[2:]
    assert _counts(conn, "published.qa_children") == {A: 30}
    assert conn.execute("select count(*) from published_pseudo.qa_children_pseudo").fetchone()[0] == 30
    assert current_publication(settings)["run_month"] == A

    # the readers, as the declaration says: staff read published (not the hidden column), the analyst
    # only published_pseudo; Superset's stored login reads nothing
    with pg.connect(settings, role="dash_staff", autocommit=True) as dash:
        assert dash.execute("select count(person_id) from published.qa_children").fetchone()[0] == 30
        assert dash.execute("select run_month from published.publication order by published_at desc limit 1").fetchone()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            dash.execute("select count(age) from published.qa_children")
    with pg.connect(settings, role="dashboard", autocommit=True) as nobody:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            nobody.execute("select count(*) from published.qa_children")
    with pg.connect(settings, role="analyst", autocommit=True) as analyst:
        assert analyst.execute("select count(*) from published_pseudo.qa_children_pseudo").fetchone()[0] == 30
        assert analyst.execute("select count(*) from published_pseudo.publication").fetchone()[0] >= 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            analyst.execute("select count(*) from published.qa_children")

    # month B fails mid-way (the second relation does not exist): A stays whole and visible
    _build_month(conn, B, 40)
    with pytest.raises(PublishError):
        publish(settings, B, [TABLES[0], f"{SRC}.qa_missing"], PSEUDO, declaration=decl)
    assert _counts(conn, "published.qa_children") == {A: 30}
    assert _counts(conn, "history.qa_children") == {A: 30}
    assert _latest(conn) == A

    # a failure after every table was swapped (at the publication row) rolls back as well
    try:
        conn.execute("alter table published.publication add constraint qa_block check (run_month <> '1999-02')")
        with pytest.raises(psycopg.errors.CheckViolation):
            publish(settings, B, TABLES, PSEUDO, declaration=decl)
    finally:
        conn.execute("alter table published.publication drop constraint if exists qa_block")
    assert _counts(conn, "published.qa_scores") == {A: 30}
    assert conn.execute("select count(*) from published_pseudo.qa_children_pseudo").fetchone()[0] == 30
    assert _latest(conn) == A

    # B publishes; history has A and B
    publish(settings, B, TABLES, PSEUDO, declaration=decl)
    assert _counts(conn, "published.qa_children") == {B: 40}
    assert _counts(conn, "history.qa_children") == {A: 30, B: 40}
    assert _counts(conn, "history.pseudo__qa_children_pseudo") == {A: 30, B: 40}
    assert _latest(conn) == B

    # re-publishing B (corrected, fewer rows, a new column) replaces only B's history rows; the table is
    # rebuilt and gets the declaration's grants again: the hidden column stays hidden, the new one is read
    _build_month(conn, B, 35)
    conn.execute(f"alter table {SRC}.qa_children add column age_band text default '0-2'")
    publish(settings, B, TABLES, PSEUDO, declaration=decl)
    assert _counts(conn, "history.qa_children") == {A: 30, B: 35}
    assert _counts(conn, "history.qa_scores") == {A: 30, B: 35}
    assert conn.execute("select count(*) from history.qa_children where age_band is null").fetchone()[0] == 30
    with pg.connect(settings, role="case_staff", autocommit=True) as staff:
        assert staff.execute("select count(age_band) from published.qa_children").fetchone()[0] == 35
        assert staff.execute("select count(person_id) from history.qa_children").fetchone()[0] == 65
        for table in ("published.qa_children", "history.qa_children"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                staff.execute(f"select count(age) from {table}")
    with pg.connect(settings, role="dash_school_board", autocommit=True) as school:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # not declared for the school board
            school.execute("select count(*) from published.qa_children")


def test_every_published_row_carries_the_attempt_and_verify_refuses_inside(transformer, settings):
    """Lineage (issue 16): published, pseudonymised and history rows carry the attempt's run id, as
    does the publication row; a refusal by ``verify`` (inside the transaction) changes nothing."""
    from mimamori.publish import current_publication, publish

    decl = _declaration()
    conn = transformer
    _build_month(conn, A, 12)
    publish(settings, A, TABLES, PSEUDO, declaration=decl, run_id="manual__qa-a")
    for table in PUBLISHED + HISTORY:
        assert conn.execute(f"select array_agg(distinct run_id) from {table}").fetchone()[0] == ["manual__qa-a"], table
    assert current_publication(settings)["run_id"] == "manual__qa-a"

    class Refused(Exception):
        pass

    def refuse(verify_conn):
        # inside the publication's transaction, after its lock: nothing has changed yet
        assert verify_conn.execute("select count(*) from published.qa_children").fetchone()[0] == 12
        raise Refused("not this attempt")

    _build_month(conn, B, 20)
    with pytest.raises(Refused):
        publish(settings, B, TABLES, PSEUDO, declaration=decl, run_id="manual__qa-b", verify=refuse)
    assert _counts(conn, "published.qa_children") == {A: 12}
    assert _latest(conn) == A
    publish(settings, B, TABLES, PSEUDO, declaration=decl, run_id="manual__qa-b", verify=lambda _conn: None)
    got = conn.execute(
        "select run_month, run_id, count(*) from history.qa_children group by 1, 2 order by 1"
    ).fetchall()
    assert got == [(A, "manual__qa-a", 12), (B, "manual__qa-b", 20)]
