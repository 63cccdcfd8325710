"""The project-local cluster: UTF-8 collation, contrib, least-privilege roles."""

import psycopg
import pytest
from mimamori.stack import pg


def test_cluster_is_utf8_with_trigram_similarity_on_japanese(wh_conn):
    assert wh_conn.execute("show lc_ctype").fetchone()[0] == "C.UTF-8"
    # With LC_CTYPE=C pg_trgm makes no trigrams of Japanese text (stack.md): similarity would be 0.
    assert wh_conn.execute("select similarity('タカハシタロウ', 'タカハシタロ')").fetchone()[0] > 0.5


def test_listens_on_loopback_only(wh_conn):
    assert wh_conn.execute("show listen_addresses").fetchone()[0] == "127.0.0.1"


@pytest.mark.parametrize(
    ("role", "statement"),
    [
        ("dashboard", "create table raw.should_fail(i int)"),
        ("dashboard", "select count(*) from raw.jumin__residents"),
        ("analyst", "create table published.should_fail(i int)"),
        ("casework", "create table raw.should_fail(i int)"),
        ("loader", "create table published.should_fail(i int)"),
    ],
)
def test_roles_have_least_privilege(warehouse, role, statement):
    with pg.connect(warehouse, role=role) as conn:
        with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedTable)):
            conn.execute(statement)


def test_loader_writes_raw_and_transformer_reads_it(warehouse):
    with pg.connect(warehouse, role="loader", autocommit=True) as conn:
        conn.execute("create table if not exists raw.platform_probe(i int)")
        conn.execute("truncate raw.platform_probe")
        conn.execute("insert into raw.platform_probe values (1)")
    try:
        with pg.connect(warehouse, role="transformer") as conn:
            assert conn.execute("select count(*) from raw.platform_probe").fetchone()[0] == 1
        with pg.connect(warehouse, role="dashboard") as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("select count(*) from raw.platform_probe")
    finally:
        with pg.connect(warehouse, role="loader", autocommit=True) as conn:
            conn.execute("drop table raw.platform_probe")


def test_host_connections_need_the_password(warehouse):
    dsn = warehouse.dsn(role="loader").replace(warehouse.role_passwords["loader"], "wrong-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(dsn, connect_timeout=5)
