"""The Superset dashboards (superset/assets) in a real browser, per role, against the warehouse.

For every chart: the data Superset serves (``/api/v1/chart/{id}/data/`` and the dashboard's own
``/api/v1/chart/data`` calls with the month the dashboard selected) equals an independent query
on the warehouse tables, and the page shows it. Also: the import is idempotent, the school board
sees only children on the month's 学齢簿, the analyst sees no name, no address reaches any chart,
Japanese renders. Screenshots: ``<artifacts>/dashboard-<role>-<slug>.png``.

Data: the session fixture ``dashboard_month`` (tests/e2e/conftest.py) — a real published month,
read through each audience's own PostgreSQL login (row-level security included).
"""

from __future__ import annotations

import json
import math
import time
from decimal import Decimal

import pytest
from mimamori import superset_assets as sa
from mimamori.browser import OffHostRequests, superset_login

pytestmark = pytest.mark.browser

DASHBOARDS = {
    "overview": "mimamori-overview",
    "type_detail": "mimamori-type-detail",
    "evaluation": "mimamori-evaluation",
    "pseudo": "mimamori-pseudo",
}
ROLE_DASHBOARDS = {
    "coordinator": ("overview", "type_detail", "evaluation", "pseudo"),
    "caseworker": ("overview", "type_detail"),
    "nurse": ("overview", "type_detail"),
    "school_board": ("overview", "type_detail"),
    "analyst": ("pseudo",),
}
# chart key (file name in superset/assets/charts) -> dashboard
CHART_DASHBOARD = {
    "ov_in_scope": "overview",
    "ov_flagged": "overview",
    "ov_several": "overview",
    "ov_by_type": "overview",
    "ov_bar_type": "overview",
    "ov_bar_several": "overview",
    "ov_list": "overview",
    "ov_changes": "overview",
    "ty_ranked": "type_detail",
    "ty_items": "type_detail",
    "ty_item_counts": "type_detail",
    "ev_funnel": "evaluation",
    "ev_relevance": "evaluation",
    "ev_threshold": "evaluation",
    "ev_disparity": "evaluation",
    "ev_yield": "evaluation",
    "ps_by_type": "pseudo",
    "ps_points": "pseudo",
    "ps_list": "pseudo",
}

# --- the independent warehouse queries --------------------------------------------------------------
# {H}: the history schema, {P}: published_pseudo. Parameters: months (text[] or null = all),
# types (type labels or null = all), school (true = only children on that month's 学齢簿).
_CHILD = """
    with base as (
        select s.*, r.name,
            coalesce((select bool_or(a.affiliation_type = '学校') from {H}.child_affiliations a
                      where a.run_month = s.run_month and a.person_id = s.person_id), false) as on_register,
            case when exists (select 1 from {H}.child_affiliations a where a.run_month = s.run_month
                              and a.person_id = s.person_id and a.affiliation_type = '学校') then '学校'
                 when exists (select 1 from {H}.child_affiliations a where a.run_month = s.run_month
                              and a.person_id = s.person_id) then '保育所等'
                 when s.age >= 15 then 'データなし' else 'なし' end as affiliation
        from {H}.child_scores s
        left join {H}.residents r on r.run_month = s.run_month and r.person_id = s.person_id
    ),
    child as (
        select * from base
        where (%(months)s::text[] is null or run_month = any(%(months)s)) and (not %(school)s or on_register)
    ),
    ct as (
        select child.*, t.type_code, t.type_label_ja, t.type_sort_order, t.score, t.threshold,
            t.is_in_age_range, t.is_flagged as type_flagged, ch.flag_change, ch.previous_score
        from child
        join {H}.child_type_scores t on t.run_month = child.run_month and t.person_id = child.person_id
            and t.type_code <> '_any'
        left join {H}.child_score_changes ch on ch.run_month = t.run_month and ch.person_id = t.person_id
            and ch.type_code = t.type_code
    ),
    ranked as (
        select t.*, rank() over (partition by t.run_month, t.type_code
                                 order by t.score desc, s.total_points desc) as type_rank
        from {H}.child_type_scores t
        join {H}.child_scores s on s.run_month = t.run_month and s.person_id = t.person_id
        where t.is_in_age_range and t.score > 0 and t.type_code <> '_any'
            -- row-level security in PostgreSQL: the school board's query sees (and ranks) its pupils only
            and (not %(scoped)s or exists (select 1 from {H}.child_affiliations a where a.run_month = t.run_month
                                              and a.person_id = t.person_id and a.affiliation_type = '学校'))
    ),
    rule as (
        select ranked.run_month, ranked.type_label_ja, ranked.type_rank, ranked.score, ranked.threshold,
            ranked.is_flagged, child.person_id, child.name, child.age, child.affiliation, child.total_points,
            ti.item_code, ti.item_code || ' ' || coalesce(lbl.item_label_ja, '') as item_label,
            -- a mark beside the word; an item of a department the audience may not see is not listed
            case m.status when 'true' then '● 該当' when 'false' then '○ 非該当' else '？ データなし' end as status_ja,
            v.verdict_label_ja, v.verdict_ja
        from ranked
        join child on child.run_month = ranked.run_month and child.person_id = ranked.person_id
        join {H}.rule_type_items ti on ti.run_month = ranked.run_month and ti.type_code = ranked.type_code
            and (not %(scoped)s or ti.item_code = any(%(visible)s))
        left join {H}.child_type_verdicts v on v.run_month = ranked.run_month and v.person_id = ranked.person_id
            and v.type_code = ranked.type_code and v.audience = %(audience)s
        left join {H}.child_item_matches m on m.run_month = ranked.run_month and m.person_id = ranked.person_id
            and m.item_code = ti.item_code and (not %(scoped)s or m.item_code = any(%(visible)s))
        left join (select distinct run_month, item_code, item_label_ja from {H}.child_item_matches
                   where not %(scoped)s or item_code = any(%(visible)s)) lbl
            on lbl.run_month = ti.run_month and lbl.item_code = ti.item_code
        where (%(types)s::text[] is null or ranked.type_label_ja = any(%(types)s))
    )
"""
_MONTH = "(%(months)s::text[] is null or run_month = any(%(months)s))"
EXPECTED = {
    "ov_in_scope": _CHILD + "select count(distinct person_id) from child",
    "ov_flagged": _CHILD + "select count(distinct person_id) from child where is_flagged",
    "ov_several": _CHILD + "select count(distinct person_id) from child where flagged_type_count >= 2",
    "ov_by_type": _CHILD
    + """
        select type_label_ja, count(*) filter (where type_flagged),
            count(*) filter (where type_flagged)::numeric / nullif(count(distinct person_id), 0),
            count(*) filter (where flag_change = 'newly_flagged'), count(*) filter (where flag_change = 'dropped')
        from ct group by type_label_ja""",
    "ov_bar_type": _CHILD + "select type_label_ja, count(*) filter (where type_flagged) from ct group by 1",
    "ov_bar_several": _CHILD
    + """
        select flagged_type_count, count(distinct person_id) from child where flagged_type_count >= 1 group by 1""",
    "ov_list": _CHILD
    + """
        select person_id, name, age_band, affiliation, coalesce(area, 'データなし'), total_points, type_label_ja,
            max(case when type_flagged then '●' else '' end)
        from ct where is_flagged group by 1, 2, 3, 4, 5, 6, 7""",
    "ov_changes": _CHILD
    + """
        select type_label_ja, case flag_change when 'newly_flagged' then '新たに気づき' else '気づきから外れた' end,
            person_id, name, age_band, previous_score, score
        from ct where flag_change in ('newly_flagged', 'dropped')""",
    "ty_ranked": _CHILD
    + """
        select type_rank, person_id, name, age, affiliation, score::text || ' / ' || threshold::text, total_points,
            verdict_label_ja, verdict_ja,
            '<a href="{CASESCREEN}/children/' || person_id || '" target="_blank" rel="noopener noreferrer">ケース画面</a>',
            count(distinct item_code) filter (where status_ja = '● 該当'),
            count(distinct item_code) filter (where status_ja = '？ データなし')
        from rule group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10""",
    "ty_items": _CHILD
    + """
        select type_rank, person_id, name, score::text || ' / ' || threshold::text, total_points, item_label,
            max(status_ja)
        from rule group by 1, 2, 3, 4, 5, 6""",
    "ty_item_counts": _CHILD
    + """
        select item_label, count(distinct person_id) filter (where status_ja = '● 該当'),
            count(distinct person_id) filter (where status_ja = '？ データなし')
        from rule group by 1""",
    "ev_funnel": f"""
        select stage_order, stage_label_ja, sum(children) from {{H}}.conference_funnel where {_MONTH} group by 1, 2""",
    "ev_relevance": """
        select r.item_code || ' ' || coalesce(l.item_label_ja, ''),
            case r.reference_group when 'already_supported' then '既に支援中' else r.reference_group end, max(r.lift)
        from {H}.item_relevance r
        left join (select distinct run_month, item_code, item_label_ja from {H}.child_item_matches) l
            on l.run_month = r.run_month and l.item_code = r.item_code
        where (%(months)s::text[] is null or r.run_month = any(%(months)s)) group by 1, 2""",
    "ev_threshold": f"""
        select threshold, type_label_ja, sum(flagged_count) from {{H}}.threshold_sensitivity
        where {_MONTH} group by 1, 2""",
    "ev_disparity": """
        select case d.dimension when 'age_band' then '年齢区分' when 'sex' then '性別'
                   when 'single_adult_household' then '大人1人の世帯' when 'area' then '地区' else d.dimension end,
            case when d.dimension = 'sex' and d.dimension_value = '1' then '男'
                 when d.dimension = 'sex' and d.dimension_value = '2' then '女'
                 when d.dimension = 'single_adult_household' and d.dimension_value = 'yes' then 'はい'
                 when d.dimension = 'single_adult_household' and d.dimension_value = 'no' then 'いいえ'
                 else coalesce(d.dimension_value, 'データなし') end,
            coalesce(l.type_label_ja, case d.type_code when '_any' then 'いずれか' else d.type_code end),
            max(d.flag_rate)
        from {H}.flag_disparity d
        left join (select distinct run_month, type_code, type_label_ja from {H}.threshold_sensitivity) l
            on l.run_month = d.run_month and l.type_code = d.type_code
        where (%(months)s::text[] is null or d.run_month = any(%(months)s)) group by 1, 2, 3""",
    "ev_yield": f"""
        select type_label_ja, judged_run_month, sum(discussed_count), sum(needs_support_count),
            max(cumulative_discussed_count), max(cumulative_needs_support_share), max(cumulative_needs_support_lower),
            max(cumulative_needs_support_upper), max(cumulative_discovery_share),
            max(case when is_drift_alarm then 1 else 0 end)
        from {{H}}.outcome_yield where {_MONTH} group by 1, 2""",
    "ps_by_type": "select type_label_ja, count(*) filter (where is_flagged) from {P}.pseudo_child_type_scores group by 1",
    "ps_points": "select total_points, count(*) from {P}.pseudo_child_scores group by 1",
    "ps_list": """
        select left(pseudo_child_id, 10), age_band, flagged_type_labels_ja, total_points, matched_items
        from {P}.pseudo_child_scores where is_flagged""",
}


def _norm(value):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float, Decimal)):
        f = float(value)
        return None if math.isnan(f) else round(f, 6)
    return str(value)


def _rows(rows) -> list[tuple]:
    return sorted((tuple(_norm(v) for v in row) for row in rows), key=repr)


def _same_rows(got: list, want: list, label: str) -> None:
    """Fail with counts only: a diff of chart rows would print children's names into the test log."""
    if got == want:
        return
    differ = sum(1 for a, b in zip(got, want, strict=False) if a != b) + abs(len(got) - len(want))
    raise AssertionError(f"{label}: {len(got)} rows drawn, {len(want)} expected, {differ} differ (values not shown)")


def _bag(rows: list[tuple]) -> list[tuple]:
    """Rows compared regardless of column order."""
    return sorted(tuple(sorted(map(repr, row))) for row in rows)


def expected_rows(settings, month_info, key, months=None, types=None, school=False) -> list[tuple]:
    from mimamori.stack import pg

    schemas = month_info["schemas"]
    query = (
        EXPECTED[key]
        .replace("{H}", schemas["history"])
        .replace("{P}", schemas["published_pseudo"])
        .replace("{CASESCREEN}", sa.casescreen_url(settings))
    )
    from mimamori import access

    # on a real publication the school board's own PostgreSQL login is row-scoped (docs/security.md)
    scoped = school
    visible = sorted(access.declaration().visible_items("school_board"))
    audience = "school_board" if scoped else "coordinator"  # the verdicts' wording is per audience
    params = {
        "months": months,
        "types": types,
        "school": school,
        "scoped": scoped,
        "visible": visible,
        "audience": audience,
    }
    with pg.connect(settings, autocommit=True) as conn:
        rows = conn.execute(query, params).fetchall()
    return _rows(rows)


def superset_rows(result: dict) -> list[tuple]:
    """Rows of one chart-data result, in the chart's column order (colnames)."""
    cols = result["colnames"]
    return _rows([[row.get(c) for c in cols] for row in result["data"]])


def _filters_of(query: dict) -> dict[str, list]:
    return {f["col"]: f["val"] for f in query.get("filters", []) if f.get("op") == "IN"}


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chart_ids(dashboard_month, settings):
    """chart key → Superset chart id (by the uuids in the bundle)."""
    import yaml

    api = _user_api(settings, "admin")
    by_uuid = {c["uuid"]: c["id"] for c in api.list_all("/api/v1/chart/", ("id", "uuid"))}
    ids = {}
    for path in (sa.bundle_dir(settings) / "charts").glob("*.yaml"):
        ids[path.stem] = by_uuid[yaml.safe_load(path.read_text(encoding="utf-8"))["uuid"]]
    assert set(ids) == set(CHART_DASHBOARD), "a chart of the bundle is not covered by these tests"
    return ids


_SESSIONS: dict[str, tuple[float, sa.Api]] = {}


def _user_api(settings, user: str) -> sa.Api:
    """A logged-in API session per user, reused for 5 minutes (its JWT lives 15): logging in for
    every test would pass Superset's login limit per address (10 a minute, superset_config.py)."""
    from mimamori.stack import superset as ss

    reused = _SESSIONS.get(user)
    if reused and time.monotonic() - reused[0] < 300:
        return reused[1]
    password = settings.superset_admin_password if user == "admin" else sa.user_password(settings, user)
    api = sa.Api.login(ss.url(settings), user, password)
    _SESSIONS[user] = (time.monotonic(), api)
    return api


# --- import ------------------------------------------------------------------------------------------


def test_import_is_idempotent(dashboard_month, settings):
    api = _user_api(settings, "admin")
    before = sa.export_snapshot(api)
    # the same objects (no copy made): compared as sets, since the list is ordered by changed_on,
    # which every import touches
    listed = {p: sorted(r["id"] for r in api.list_all(p, ("id",))) for p in ("/api/v1/chart/", "/api/v1/dataset/")}
    started = time.monotonic()
    stats = sa.import_bundle(settings, schemas=dashboard_month["schemas"], api=api)
    sa.provision_roles(settings, api=api)
    print(f"re-import + roles in {time.monotonic() - started:.1f}s: {stats}")
    after = sa.export_snapshot(api)
    assert before.keys() == after.keys()
    changed = [k for k in before if before[k] != after[k]]
    assert changed == [], f"importing again changed {changed}"
    assert {p: sorted(r["id"] for r in api.list_all(p, ("id",))) for p in listed} == listed


def test_bundle_has_no_password_and_no_address(settings):
    import yaml

    for path in sa.bundle_dir(settings).rglob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        assert "XXXXXXXXXX@" in text or "sqlalchemy_uri" not in text, f"{path}: password not masked"
        if "/datasets/" in path.as_posix():
            doc = yaml.safe_load(text)
            sql_lines = [ln for ln in (doc.get("sql") or "").splitlines() if not ln.strip().startswith("--")]
            for word in ("address", "住所"):
                assert not [c for c in doc["columns"] if word in c["column_name"]], f"{path}: column {word}"
                assert word not in "\n".join(sql_lines), f"{path}: the SQL reads {word}"
    for password in settings.role_passwords.values():
        if password:
            assert not any(password in p.read_text(encoding="utf-8") for p in sa.bundle_dir(settings).rglob("*.yaml"))


def test_no_dataset_column_is_an_address(dashboard_month, settings):
    api = _user_api(settings, "admin")
    for ds in api.list_all("/api/v1/dataset/", ("id", "table_name")):
        detail = api.get_json(f"/api/v1/dataset/{ds['id']}")["result"]
        names = [c["column_name"] for c in detail["columns"]]
        assert not [n for n in names if "address" in n or "住所" in n], (ds["table_name"], names)
        assert "address" not in (detail.get("sql") or ""), ds["table_name"]


# --- every chart's data equals the warehouse --------------------------------------------------------


@pytest.mark.parametrize("key", sorted(CHART_DASHBOARD))
def test_chart_data_equals_warehouse(key, dashboard_month, chart_ids, settings):
    """GET /api/v1/chart/{id}/data/ (saved query, every published month) and the same query for the
    dashboard's month both equal the independent warehouse query."""
    api = _user_api(settings, "admin")
    cid = chart_ids[key]
    result = api.get_json(f"/api/v1/chart/{cid}/data/")["result"][0]
    _same_rows(superset_rows(result), expected_rows(settings, dashboard_month, key), f"{key}: all months")

    chart = api.get_json(f"/api/v1/chart/{cid}")["result"]
    context = json.loads(chart["query_context"])
    context["datasource"] = {"id": context["datasource"]["id"], "type": "table"}
    month = dashboard_month["run_month"]
    for query in context["queries"]:
        query["filters"] = [*query.get("filters", []), {"col": "run_month", "op": "IN", "val": [month]}]
    result = api.call("POST", "/api/v1/chart/data", json=context).json()["result"][0]
    assert result["rowcount"] > 0, f"{key}: no rows for {month}"
    _same_rows(superset_rows(result), expected_rows(settings, dashboard_month, key, months=[month]), f"{key}: {month}")


def _wilson(k: int, n: int, sign: int, z: float = 1.96) -> float:
    p = k / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return round(min(1.0, max(0.0, (centre + sign * spread) / (1 + z * z / n))), 4)


def test_yield_is_empty_before_the_conference_and_counts_its_outcomes_after(dashboard_month, chart_ids, settings):
    """ev_yield (検証): before any outcome of the month is recorded, Superset serves no row for it;
    after the coordinator recorded the conference on the case screen and the month was re-run, it
    serves per type the children discussed and judged 要支援 — counted here from what was recorded
    and from the month's published judgement (flagged types), not from outcome_yield — with the
    cumulative share's Wilson 95 % interval."""
    import csv

    from mimamori.stack import pg

    assert dashboard_month["outstanding_before"] == 0, "outcomes left by another suite: 'before' would prove nothing"
    assert dashboard_month["yield_before"] == [], "the yield showed rows before any conference outcome"

    month = dashboard_month["run_month"]
    recorded = dashboard_month["recorded"]
    seed = settings.root / "dbt_project" / "seeds" / "rules" / "types.csv"
    with seed.open(encoding="utf-8") as f:
        labels = {r["type_code"]: r["label_ja"] for r in csv.DictReader(f) if r["is_enabled"] == "true"}
    labels["_any"] = "いずれかの類型"
    with pg.connect(settings, autocommit=True) as conn:
        flagged = dict(
            conn.execute(
                "select person_id, flagged_types from history.child_scores where run_month = %s and person_id = any(%s)",
                (month, [p for p, _ in recorded]),
            ).fetchall()
        )
    assert len(flagged) == len(recorded), "a recorded child is not in the published month"
    want = {label: (0, 0) for label in labels.values()}
    for person, outcome in recorded:
        for code in ("_any", *(flagged[person] or "").split()):
            discussed, needs = want[labels[code]]
            want[labels[code]] = (discussed + 1, needs + (outcome == "要支援"))
    assert want["いずれかの類型"][1] > 0 and len({o for _, o in recorded}) > 1, "the outcomes would prove little"

    api = _user_api(settings, "coordinator")
    got = {
        row["type_label_ja"]: row
        for row in _month_rows(api, chart_ids["ev_yield"], month)
        if row["judged_run_month"] == month
    }
    assert {k: (row["検討したこども"], row["要支援"]) for k, row in got.items()} == want
    for label, (n, k) in want.items():
        if n:  # one judged month: the cumulative share is this month's
            row = got[label]
            assert row["要支援の割合（累計）"] == pytest.approx(round(k / n, 4)), label
            interval = (row["95%区間 下限"], row["95%区間 上限"])
            assert interval == pytest.approx((_wilson(k, n, -1), _wilson(k, n, 1))), label
            assert row["変化の警告（1=あり）"] == 0, f"{label}: a drift alarm from one month"


def _month_rows(api, cid: int, month: str) -> list[dict]:
    """A chart's data for one month, as its dashboard asks for it (the run_month filter)."""
    chart = api.get_json(f"/api/v1/chart/{cid}")["result"]
    context = json.loads(chart["query_context"])
    context["datasource"] = {"id": context["datasource"]["id"], "type": "table"}
    for query in context["queries"]:
        query["filters"] = [*query.get("filters", []), {"col": "run_month", "op": "IN", "val": [month]}]
    return api.call("POST", "/api/v1/chart/data", json=context).json()["result"][0]["data"]


def test_school_board_sees_only_children_on_the_register(dashboard_month, chart_ids, settings):
    from mimamori.stack import pg

    board = _user_api(settings, "school_board")
    h = dashboard_month["schemas"]["history"]
    with pg.connect(settings, autocommit=True) as conn:
        on_register = {
            (m, p)
            for m, p in conn.execute(
                f"select run_month, person_id from {h}.child_affiliations where affiliation_type = '学校'"
            )
        }
        everyone = {tuple(r) for r in conn.execute(f"select run_month, person_id from {h}.child_scores")}
    assert everyone - on_register, "the data has no child outside the 学齢簿: the test would prove nothing"
    for key in ("ov_in_scope", "ov_list", "ov_changes", "ty_ranked", "ty_items"):
        got = board.get_json(f"/api/v1/chart/{chart_ids[key]}/data/")["result"][0]
        assert got["data"], key
        _same_rows(superset_rows(got), expected_rows(settings, dashboard_month, key, school=True), key)
        shown = {(row.get("person_id")) for row in got["data"]} - {None}
        assert shown <= {p for _, p in on_register}, f"{key}: children not on the 学齢簿"
    # nothing of the evaluation or the pseudonymised data
    for key in ("ev_funnel", "ps_list"):
        r = board.call("GET", f"/api/v1/chart/{chart_ids[key]}/data/", ok=(200, 403, 404))
        assert r.status_code in (403, 404), key


def test_analyst_sees_pseudonymised_data_only(dashboard_month, chart_ids, settings):
    analyst = _user_api(settings, "analyst")
    for key, dashboard in CHART_DASHBOARD.items():
        r = analyst.call("GET", f"/api/v1/chart/{chart_ids[key]}/data/", ok=(200, 403, 404))
        assert (r.status_code == 200) == (dashboard == "pseudo"), (key, r.status_code)
    datasets = {d["table_name"] for d in analyst.list_all("/api/v1/dataset/", ("table_name",))}
    assert datasets <= set(sa.PSEUDO_DATASETS), datasets


# --- in the browser, per role -------------------------------------------------------------------------

_DRAWN = """() => {
  const holders = [...document.querySelectorAll('.dashboard-component-chart-holder')]
    .filter(h => /dashboard-chart-id-\\d+/.test(h.className));
  return holders.length > 0 && holders.every(h =>
    !h.querySelector('.loading, [data-test=loading-indicator]') &&
    (h.querySelector('table tbody tr, canvas, .header-line, .big-number') ||
     h.querySelector('.ant-empty, [role=alert]')));
}"""


def _names(settings, month_info) -> set[str]:
    from mimamori.stack import pg

    with pg.connect(settings, autocommit=True) as conn:
        rows = conn.execute(f"select distinct name from {month_info['schemas']['history']}.residents where name <> ''")
        return {r[0] for r in rows}


def _addresses(settings, month_info) -> set[str]:
    from mimamori.stack import pg

    with pg.connect(settings, autocommit=True) as conn:
        cols = conn.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = 'residents'",
            (month_info["schemas"]["history"],),
        ).fetchall()
        if ("address",) not in cols:
            return set()
        rows = conn.execute(
            f"select distinct address from {month_info['schemas']['history']}.residents where address <> ''"
        )
        return {r[0] for r in rows}


def _register_names(settings, month_info) -> tuple[set[str], set[str]]:
    """Names of the month's children on / not on the 学齢簿."""
    from mimamori.stack import pg

    h = month_info["schemas"]["history"]
    with pg.connect(settings, autocommit=True) as conn:
        rows = conn.execute(
            f"select r.name, exists (select 1 from {h}.child_affiliations a where a.run_month = s.run_month"
            f" and a.person_id = s.person_id and a.affiliation_type = '学校') from {h}.child_scores s"
            f" join {h}.residents r on r.run_month = s.run_month and r.person_id = s.person_id"
            " where s.run_month = %s",
            (month_info["run_month"],),
        ).fetchall()
    return {n for n, on in rows if on}, {n for n, on in rows if not on}


@pytest.mark.parametrize("role", sorted(ROLE_DASHBOARDS))
def test_dashboards_in_browser(role, dashboard_month, chart_ids, settings, superset, page):
    offhost = OffHostRequests(page, superset)
    id_to_key = {v: k for k, v in chart_ids.items()}
    captured: dict[int, tuple[dict, dict]] = {}

    def on_response(response):
        if "/api/v1/chart/data" not in response.url or response.request.method != "POST":
            return
        body = json.loads(response.request.post_data or "{}")
        slice_id = (body.get("form_data") or {}).get("slice_id")
        if slice_id and response.status == 200:
            captured[slice_id] = (body, response.json())

    page.on("response", on_response)
    password = sa.user_password(settings, role)
    superset_login(page, superset, role, password)
    names = _names(settings, dashboard_month)
    addresses = _addresses(settings, dashboard_month)
    school_only = role == "school_board"
    settings.artifacts_dir.mkdir(parents=True, exist_ok=True)

    for dashboard in ROLE_DASHBOARDS[role]:
        slug = DASHBOARDS[dashboard]
        captured.clear()
        started = time.monotonic()
        page.goto(f"{superset}/superset/dashboard/{slug}/", wait_until="domcontentloaded")
        page.locator(".dashboard-component-chart-holder").first.wait_for(timeout=60_000)
        page.wait_for_function(_DRAWN, timeout=90_000)
        if dashboard != "pseudo":  # the markdown note renders after the charts on a busy machine
            page.get_by_text("データは支援の必要性に気づくための手がかり").first.wait_for(timeout=60_000)
        keys = [k for k, d in CHART_DASHBOARD.items() if d == dashboard]
        deadline = time.monotonic() + 30
        while {chart_ids[k] for k in keys} - set(captured) and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        page.wait_for_timeout(1200)  # let ECharts finish its animation before the screenshot
        shot = settings.artifacts_dir / f"dashboard-{role}-{slug}.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"{role} {slug}: drawn in {time.monotonic() - started:.1f}s -> {shot}")

        assert set(captured) == {chart_ids[k] for k in keys}, f"{slug}: charts that queried: {captured.keys()}"
        if dashboard != "pseudo":
            # the note is on the dashboard (a component may be re-mounted while a big chart draws)
            note = page.get_by_text("データは支援の必要性に気づくための手がかり").first
            note.wait_for(state="attached", timeout=60_000)
        text = page.locator("body").inner_text()
        assert "リスク" not in text and "risk" not in text.lower()
        for address in addresses:
            assert address not in text, f"{slug}: an address is on the page"
        for slice_id, (body, answer) in captured.items():
            key = id_to_key[slice_id]
            result = answer["result"][0]
            filters = _filters_of(body["queries"][0])
            assert (
                filters.get("run_month", [dashboard_month["run_month"]]) == [dashboard_month["run_month"]]
                or dashboard == "pseudo"
            ), f"{key}: not the latest month: {filters}"
            want = expected_rows(
                settings,
                dashboard_month,
                key,
                months=filters.get("run_month"),
                types=filters.get("type_label_ja"),
                school=school_only,
            )
            got = superset_rows(result)
            if body["form_data"].get("viz_type", "").startswith("echarts_"):
                # ECharts get pivoted rows (post-processing): compare every number drawn
                x_axis = body["form_data"].get("x_axis")
                got_numbers = sorted(
                    round(float(v), 6)
                    for row in result["data"]
                    for c, v in row.items()
                    if c != x_axis
                    and isinstance(v, (int, float))
                    and not isinstance(v, bool)
                    and not math.isnan(float(v))
                )
                want_numbers = sorted(v for row in want for v in row[1:] if isinstance(v, float))
                _same_rows(got_numbers, want_numbers, f"{role} {key}: drawn data")
            else:
                # the frontend may order the columns differently (pivot tables: columns first)
                _same_rows(_bag(got), _bag(want), f"{role} {key}: drawn data")
            assert result["data"] or not want, key
            holder = page.locator(f".dashboard-chart-id-{slice_id}")
            shown = holder.inner_text()
            if result["data"] and key.startswith(("ov_in", "ov_fl", "ov_sev")):
                value = list(result["data"][0].values())[0]
                assert f"{value:,}" in shown or str(value) in shown, f"{key}: {value} not shown"
            elif key in ("ov_list", "ov_changes", "ty_ranked", "ty_items", "ps_list", "ov_by_type"):
                first = result["data"][0]
                probe = next(
                    str(v) for c, v in first.items() if isinstance(v, str) and v and not v.startswith("<") and v != "●"
                )
                if probe not in shown:
                    raise AssertionError(f"{key}: the first row's label is not on the page (value not shown)")
            else:
                assert holder.locator("canvas, table").count() > 0, f"{key}: nothing drawn"
            if role == "analyst" or dashboard == "pseudo":
                cols = set(result["colnames"])
                assert not cols & {"child_name", "name", "person_id", "household_id"}, f"{key}: identifying column"
        if role == "analyst":
            leaked = sum(1 for n in names if n in text)  # a count: the names never reach the test log
            assert leaked == 0, f"the analyst sees {leaked} name(s)"
        if dashboard == "type_detail":
            link = page.locator(f"a[href^='{sa.casescreen_url(settings)}/children/']").first
            assert link.count() == 1, "no link to the case screen"
        if school_only:
            on_names, off_names = _register_names(settings, dashboard_month)
            # A name that is part of a registered child's name (松田　雅 in 松田　雅人) proves nothing.
            off_only = {n for n in off_names - on_names if not any(n in m for m in on_names)}
            leaked = sum(1 for n in off_only if n in text)  # a count: the names never reach the test log
            assert leaked == 0, f"the school board sees {leaked} child(ren) not on the 学齢簿"

    # roles see only their dashboards
    api = _user_api(settings, role)
    visible = {d["slug"] for d in api.list_all("/api/v1/dashboard/", ("slug",))}
    assert visible & set(DASHBOARDS.values()) == {DASHBOARDS[d] for d in ROLE_DASHBOARDS[role]}, visible
    assert offhost.unexpected == [], offhost.unexpected
    assert offhost.answered == [], offhost.answered
