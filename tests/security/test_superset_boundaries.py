"""Superset runs every query as the logged-in user's audience login: custom SQL cannot reach further.

Each Superset user sends chart-data requests (what Explore sends) whose custom SQL metrics try to
read other schemas, other rows, addresses and the catalogue's functions — with Superset's own
subquery guard switched off for the suite (tests/conftest.py), so only the database stands in the
way. Results are compared as counts with the superuser's own count; no value is printed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mimamori import superset_assets as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from boundary_helpers import register_rows  # noqa: E402

USERS = ("coordinator", "caseworker", "nurse", "school_board", "analyst")
DATASET = {"analyst": "pseudo_child_scores"}


@pytest.fixture(scope="module")
def superset_ready(superset, published_month, warehouse):
    """The bundle imported against the real published month, roles and users provisioned."""
    api = sa.admin_api(warehouse)
    sa.import_bundle(warehouse, api=api)
    sa.provision_roles(warehouse, api=api)
    return {row["table_name"]: row["id"] for row in api.list_all("/api/v1/dataset/", ("id", "table_name"))}


@pytest.fixture(scope="module")
def apis(superset_ready, warehouse):
    from mimamori.stack import superset as ss

    return {user: sa.Api.login(ss.url(warehouse), user, sa.user_password(warehouse, user)) for user in USERS}


def metric(api, dataset_id: int, expression: str) -> tuple[int, object]:
    """(HTTP status, the metric's first value or the error message) of a custom SQL metric."""
    body = {
        "datasource": {"id": dataset_id, "type": "table"},
        "force": True,
        "queries": [
            {
                "columns": [],
                "metrics": [{"expressionType": "SQL", "sqlExpression": expression, "label": "m"}],
                "row_limit": 1,
            }
        ],
        "result_format": "json",
        "result_type": "full",
    }
    r = api.session.post(f"{api.base}/api/v1/chart/data", json=body, timeout=180)
    payload = r.json()
    if r.status_code == 200:
        data = payload["result"][0]["data"]
        return 200, data[0]["m"] if data else None
    return r.status_code, str(payload.get("message") or payload.get("errors") or payload)


def dataset_of(user: str, datasets: dict[str, int]) -> int:
    return datasets[DATASET.get(user, "dashboard_child_types")]


def expected_login(decl, user: str) -> str:
    return decl.superset_logins()[sa.superset_role(user)]


@pytest.mark.parametrize("user", USERS)
def test_every_query_runs_as_the_users_audience_login(apis, superset_ready, decl, user):
    status, value = metric(apis[user], dataset_of(user, superset_ready), "max(current_user)")
    assert status == 200 and value == expected_login(decl, user)


@pytest.mark.parametrize("user", USERS)
def test_custom_sql_cannot_reach_beyond_the_audience(apis, superset_ready, su, decl, user):
    api, dataset = apis[user], dataset_of(user, superset_ready)
    # the application guard is off: a subquery runs (else this test would prove nothing)
    status, _ = metric(api, dataset, "(select count(*) from published_pseudo.publication)")
    if user in ("analyst", "coordinator"):
        assert status == 200, "subqueries are refused by Superset: the suite must switch its guard off"
    refused = {
        "raw extracts": "(select count(*) from raw.jumin__residents)",
        "dbt marts": "(select count(*) from marts.residents)",
        "staff accounts": "(select count(*) from casework.staff_users)",
        "an address": "(select count(address) from published.residents)",
        "an address in history": "(select count(address) from history.residents)",
        "an address, any SQL": "length(query_to_xml('select address from published.residents', true, true, '')::text)",
        "the address view": "(select count(*) from published.resident_addresses)",
        "a server file": "length(pg_read_file('/etc/hostname'))",
        "another role": "length(set_config('role', 'transformer', false))",
        "server settings": "length(current_setting('data_directory'))",
    }
    for label, expression in refused.items():
        status, value = metric(api, dataset, expression)
        assert status != 200, f"{user}: {label} was readable through a custom SQL metric"
    audience = decl.audience_of(user)
    if audience.code == "analyst":
        for expression in (
            "(select count(*) from published.children)",
            "length(query_to_xml('select name from published.residents', true, true, '')::text)",
        ):
            assert metric(api, dataset, expression)[0] != 200, f"{user}: non-pseudonymised data readable"
        return
    # other rows: what any SQL counts is what the audience's scope holds, compared with the superuser
    status, seen = metric(api, dataset, "(select count(*) from history.residents)")
    expected = (
        register_rows(su, "history", "residents")
        if audience.row_scope == "school_register"
        else su.execute("select count(*) from history.residents").fetchone()[0]
    )
    assert status == 200 and seen == expected, f"{user}: {seen} residents readable, the audience's scope has {expected}"
    status, seen = metric(
        api,
        dataset,
        "(xpath('count(//row)', query_to_xml('select item_code from history.child_item_matches', true, false, '')))[1]::text::int",
    )
    visible = sorted(decl.visible_items(audience.code))
    if audience.row_scope == "school_register":
        expected = su.execute(
            "select count(*) from history.child_item_matches t where (t.run_month, t.person_id) in "
            "(select run_month, person_id from history.child_affiliations where is_on_school_register) "
            "and item_code = any(%s)",
            (visible,),
        ).fetchone()[0]
    else:
        expected = su.execute("select count(*) from history.child_item_matches").fetchone()[0]
    assert status == 200 and seen == expected, f"{user}: {seen} item rows readable, the scope has {expected}"


def test_chart_data_is_never_shared_between_audiences(apis, superset_ready, su):
    """The same request, one audience after another: each gets its own scope's answer (no cache)."""
    expression = "(select count(*) from history.child_type_scores)"
    dataset = superset_ready["dashboard_child_types"]
    everyone = su.execute("select count(*) from history.child_type_scores").fetchone()[0]
    pupils = register_rows(su, "history", "child_type_scores")
    assert pupils < everyone
    for user, expected in (
        ("coordinator", everyone),
        ("school_board", pupils),
        ("caseworker", everyone),
        ("school_board", pupils),
    ):
        status, value = metric(apis[user], dataset, expression)
        assert status == 200 and value == expected, f"{user} got another audience's answer"
