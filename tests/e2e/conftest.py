"""Browser-level fixtures: fresh chromium pages (the session's Superset is in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture()
def browser_context():
    """A fresh headless Debian-chromium context (throw-away profile, ja-JP, Asia/Tokyo)."""
    from mimamori.browser import chromium

    with chromium() as context:
        yield context


@pytest.fixture()
def page(browser_context):
    return browser_context.new_page()


# =============================================================================================
# Dashboards (tests/e2e/test_dashboards.py) — appended by the Superset dashboards work.
#
# `dashboard_month` gives the tests a published month to look at. If the warehouse already has
# a publication (the monthly DAG ran, e.g. the lead's `published_month` fixture), the bundle is
# imported as committed and reads the real `history` / `published_pseudo`. Otherwise a
# *FIXTURE* month is built — clearly not real data — in the throw-away schemas below, with the
# same table and column names the bundle reads, and the bundle is imported pointing at them.
# The fixture never writes to `published`, `history` or `published_pseudo` (other suites share
# this cluster), and is dropped at the end of the session.
# =============================================================================================

FIXTURE_SCHEMAS = {"history": "e2e_dash_history", "published_pseudo": "e2e_dash_pseudo"}
FIXTURE_MONTHS = ("2026-09", "2026-10")
FIXTURE_TYPES = (  # type_code, label, sort, min_age, max_age, threshold, items
    ("young_carer", "ヤングケアラー", 1, 6, 18, 2, ("I04a", "I05a", "I07", "I11", "I06")),
    ("poverty", "貧困", 2, 0, 18, 2, ("I08", "I09", "I13", "I19")),
    ("abuse", "虐待", 3, 0, 18, 2, ("I01", "I14", "I17", "I20")),
    ("withdrawal", "引きこもり", 4, 10, 18, 1, ("I06", "I10")),
    ("developmental_disability", "発達障がい", 6, 0, 18, 2, ("I04b", "I05b", "I10", "I20")),
)
FIXTURE_ITEMS = {
    "I01": "要対協への登録歴がある（要保護・要支援）",
    "I04a": "同一世帯人に発達障害があり精神障害者保健福祉手帳を所持",
    "I04b": "本人に発達障害があり精神障害者保健福祉手帳を所持",
    "I05a": "同一世帯人に障害児支援受給者証の発行歴",
    "I05b": "本人に障害児支援受給者証の発行歴",
    "I06": "小・中学校の年間欠席日数が30日以上",
    "I07": "同一世帯人に要介護1～5の人がいる",
    "I08": "生活保護受給世帯",
    "I09": "児童扶養手当受給世帯",
    "I10": "特別支援学級に在籍",
    "I11": "ひとり親医療費助成を受給",
    "I13": "就学援助を受給（当該年度）",
    "I14": "直近1年以内に転入",
    "I17": "相談種別：児童虐待相談",
    "I19": "多子世帯",
    "I20": "乳幼児健診アンケートで要注意",
}
#: A DV-protected (支援措置) household's address: it must never reach a dataset, chart or export.
FIXTURE_DV_ADDRESS = "見守町桜台3丁目7番21号"
_SURNAMES = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤")
_GIVEN = ("陽翔", "結菜", "蓮", "葵", "湊", "陽葵", "樹", "凛", "大和", "芽依", "悠真", "紬")
_AREAS = ("見守町本町", "見守町桜台", "見守町川辺")
_BANDS = ((0, 2, "0-2"), (3, 5, "3-5"), (6, 11, "6-11"), (12, 14, "12-14"), (15, 18, "15-18"))


def _fixture_month_rows(n_children: int = 48):
    """Deterministic fixture rows: {table: [row dict, ...]} for both months."""
    import random

    rng = random.Random(20261016)
    base = []
    for i in range(n_children):
        age = rng.randint(0, 18)
        base.append(
            {
                "person_id": f"9{i:07d}",
                "household_id": f"H{i // 2:05d}",
                "sex": rng.choice("12"),
                "age": age,
                "area": _AREAS[i % 3],
                "name": f"{_SURNAMES[i % 10]}　{_GIVEN[(i * 7) % 12]}",
                "kana": "ミマモリ　コドモ",
                "school": 6 <= age <= 14 and i % 5 != 0,
                "nursery": 1 <= age <= 5 and i % 3 != 0,
            }
        )
    rows: dict[str, list[dict]] = {
        t: []
        for t in (
            "child_scores",
            "child_type_scores",
            "child_score_changes",
            "residents",
            "child_affiliations",
            "rule_type_items",
            "child_item_matches",
            "conference_funnel",
            "outcome_yield",
            "item_relevance",
            "threshold_sensitivity",
            "flag_disparity",
            "pseudo_child_scores",
            "pseudo_child_type_scores",
        )
    }
    previous: dict[tuple[str, str], tuple[bool, float]] = {}
    for m_index, month in enumerate(FIXTURE_MONTHS):
        current = {}
        for code, _, _, _, _, _, items in FIXTURE_TYPES:
            for item in items:
                rows["rule_type_items"].append({"run_month": month, "type_code": code, "item_code": item})
        for c in base:
            age = c["age"]
            band = next(b for lo, hi, b in _BANDS if lo <= age <= hi)
            status = {}
            for j, item in enumerate(sorted(FIXTURE_ITEMS)):
                roll = rng.random()
                school_item = item in ("I06", "I10", "I13")
                if school_item and not c["school"]:
                    status[item] = "unknown"
                else:
                    status[item] = "true" if roll < 0.22 else ("unknown" if roll > 0.93 else "false")
                rows["child_item_matches"].append(
                    {
                        "run_month": month,
                        "person_id": c["person_id"],
                        "item_code": item,
                        "item_label_ja": FIXTURE_ITEMS[item],
                        "item_sort_order": j + 1,
                        "status": status[item],
                    }
                )
            total = sum(1 for s in status.values() if s == "true")
            flagged_types = []
            for code, label, sort, lo, hi, threshold, items in FIXTURE_TYPES:
                score = sum(1 for it in items if status[it] == "true")
                in_range = lo <= age <= hi
                flagged = in_range and score >= threshold
                if flagged:
                    flagged_types.append(code)
                rows["child_type_scores"].append(
                    {
                        "run_month": month,
                        "person_id": c["person_id"],
                        "household_id": c["household_id"],
                        "type_code": code,
                        "type_label_ja": label,
                        "type_sort_order": sort,
                        "age": age,
                        "score": score,
                        "threshold": threshold,
                        "is_in_age_range": in_range,
                        "is_flagged": flagged,
                    }
                )
                was = previous.get((c["person_id"], code))
                change = (
                    "newly_flagged"
                    if flagged and not (was and was[0])
                    else "still_flagged"
                    if flagged
                    else "dropped"
                    if was and was[0]
                    else "not_flagged"
                )
                rows["child_score_changes"].append(
                    {
                        "run_month": month,
                        "person_id": c["person_id"],
                        "household_id": c["household_id"],
                        "type_code": code,
                        "previous_run_month": FIXTURE_MONTHS[m_index - 1] if m_index else None,
                        "flag_change": change,
                        "previous_score": was[1] if was else None,
                        "score": score,
                        "is_flagged": flagged,
                    }
                )
                current[(c["person_id"], code)] = (flagged, score)
                rows["pseudo_child_type_scores"].append(
                    {
                        "run_month": month,
                        "pseudo_child_id": "p" + c["person_id"][::-1],
                        "age_band": band,
                        "type_code": code,
                        "score": score,
                        "threshold": threshold,
                        "is_in_age_range": in_range,
                        "is_flagged": flagged,
                    }
                )
            rows["child_scores"].append(
                {
                    "run_month": month,
                    "person_id": c["person_id"],
                    "household_id": c["household_id"],
                    "age_band": band,
                    "sex": c["sex"],
                    "area": c["area"],
                    "flagged_types": " ".join(flagged_types) or None,
                    "age": age,
                    "total_points": total,
                    "flagged_type_count": len(flagged_types),
                    "is_flagged": bool(flagged_types),
                }
            )
            rows["pseudo_child_scores"].append(
                {
                    "run_month": month,
                    "pseudo_child_id": "p" + c["person_id"][::-1],
                    "age_band": band,
                    "sex": c["sex"],
                    "flagged_types": " ".join(flagged_types) or None,
                    "matched_items": " ".join(k for k, s in status.items() if s == "true") or None,
                    "total_points": total,
                    "flagged_type_count": len(flagged_types),
                    "is_flagged": bool(flagged_types),
                }
            )
            dv = c["person_id"] == "90000004"
            rows["residents"].append(
                {
                    "run_month": month,
                    "person_id": c["person_id"],
                    "household_id": c["household_id"],
                    "name": c["name"],
                    "name_kana": c["kana"],
                    "address": FIXTURE_DV_ADDRESS if dv else f"{c['area']}1番{int(c['person_id']) % 40 + 1}号",
                    "has_dv_protection": dv,
                }
            )
            if c["school"]:
                rows["child_affiliations"].append(
                    {
                        "run_month": month,
                        "person_id": c["person_id"],
                        "affiliation_type": "学校",
                        "affiliation_name": "見守小学校",
                    }
                )
            elif c["nursery"]:
                rows["child_affiliations"].append(
                    {
                        "run_month": month,
                        "person_id": c["person_id"],
                        "affiliation_type": "保育所",
                        "affiliation_name": "見守保育所",
                    }
                )
        previous = current
        flagged_n = sum(1 for r in rows["child_scores"] if r["run_month"] == month and r["is_flagged"])
        for order, (label, n) in enumerate(
            [
                ("気づき", flagged_n),
                ("会議で検討", 6 + m_index),
                ("要支援", 1),
                ("調査継続", 2),
                ("経過観察", 1 + m_index),
                ("支援不要", 2),
            ],
            1,
        ):
            rows["conference_funnel"].append(
                {"run_month": month, "stage_order": order, "stage_label_ja": label, "children": n}
            )
        # outcome_yield: every judged month up to this one, cumulated (made-up counts)
        for code, label, sort, *_ in [*FIXTURE_TYPES, ("_any", "いずれかの類型", 0)]:
            cum = [0, 0, 0]
            for j, judged in enumerate(FIXTURE_MONTHS[: m_index + 1]):
                d, n, new = 3 + (sort + j) % 4, (sort + j) % 3, (sort + j) % 2
                cum = [cum[0] + d, cum[1] + n, cum[2] + min(new, n)]
                rows["outcome_yield"].append(
                    {
                        "run_month": month,
                        "type_code": code,
                        "type_label_ja": label,
                        "judged_run_month": judged,
                        "discussed_count": d,
                        "needs_support_count": n,
                        "cumulative_discussed_count": cum[0],
                        "cumulative_needs_support_count": cum[1],
                        "cumulative_needs_support_share": round(cum[1] / cum[0], 4),
                        "cumulative_needs_support_lower": round(max(0.0, cum[1] / cum[0] - 0.2), 4),
                        "cumulative_needs_support_upper": round(min(1.0, cum[1] / cum[0] + 0.3), 4),
                        "cumulative_discovery_share": round(cum[2] / cum[1], 4) if cum[1] else None,
                        "is_drift_alarm": code == "poverty" and j == 1,
                    }
                )
        for k, item in enumerate(sorted(FIXTURE_ITEMS)[:8]):
            for group in ("要支援", "支援不要", "already_supported"):
                rows["item_relevance"].append(
                    {
                        "run_month": month,
                        "item_code": item,
                        "reference_group": group,
                        "group_children": 5,
                        "group_matched": (k + len(group)) % 5,
                        "all_children": n_children,
                        "all_matched": 10,
                        "group_share": ((k + len(group)) % 5) / 5,
                        "all_share": 10 / n_children,
                        "lift": round(((k + len(group)) % 5) / 5 / (10 / n_children), 4),
                    }
                )
        for code, label, _, _lo, _hi, threshold, _items in FIXTURE_TYPES:
            scores = [
                r
                for r in rows["child_type_scores"]
                if r["run_month"] == month and r["type_code"] == code and r["is_in_age_range"]
            ]
            for t in range(1, 6):
                hit = sum(1 for r in scores if r["score"] >= t)
                rows["threshold_sensitivity"].append(
                    {
                        "run_month": month,
                        "type_code": code,
                        "type_label_ja": label,
                        "threshold": t,
                        "children_in_age_range": len(scores),
                        "flagged_count": hit,
                        "flagged_share": round(hit / len(scores), 4) if scores else None,
                        "is_current_threshold": t == threshold,
                    }
                )
            for dim, key in (("age_band", "age_band"), ("sex", "sex"), ("area", "area")):
                month_scores = {r["person_id"]: r for r in rows["child_scores"] if r["run_month"] == month}
                groups: dict[str, list] = {}
                for r in scores:
                    groups.setdefault(month_scores[r["person_id"]][key], []).append(r["is_flagged"])
                for value, flags in sorted(groups.items()):
                    rows["flag_disparity"].append(
                        {
                            "run_month": month,
                            "dimension": dim,
                            "dimension_value": value,
                            "type_code": code,
                            "children_in_age_range": len(flags),
                            "flagged_count": sum(flags),
                            "flag_rate": round(sum(flags) / len(flags), 4),
                        }
                    )
    return rows


_FIXTURE_DDL = {
    "child_scores": "run_month text, person_id text, household_id text, age_band text, sex text, area text,"
    " flagged_types text, age integer, total_points numeric, flagged_type_count integer, is_flagged boolean",
    "child_type_scores": "run_month text, person_id text, household_id text, type_code text, type_label_ja text,"
    " type_sort_order integer, age integer, score numeric, threshold numeric, is_in_age_range boolean,"
    " is_flagged boolean",
    "child_score_changes": "run_month text, person_id text, household_id text, type_code text,"
    " previous_run_month text, flag_change text, previous_score numeric, score numeric, is_flagged boolean",
    "residents": "run_month text, person_id text, household_id text, name text, name_kana text, address text,"
    " has_dv_protection boolean",
    "child_affiliations": "run_month text, person_id text, affiliation_type text, affiliation_name text",
    "rule_type_items": "run_month text, type_code text, item_code text",
    "child_item_matches": "run_month text, person_id text, item_code text, item_label_ja text,"
    " item_sort_order integer, status text",
    "conference_funnel": "run_month text, stage_order integer, stage_label_ja text, children integer",
    "outcome_yield": "run_month text, type_code text, type_label_ja text, judged_run_month text,"
    " discussed_count integer, needs_support_count integer, cumulative_discussed_count integer,"
    " cumulative_needs_support_count integer, cumulative_needs_support_share numeric,"
    " cumulative_needs_support_lower numeric, cumulative_needs_support_upper numeric,"
    " cumulative_discovery_share numeric, is_drift_alarm boolean",
    "item_relevance": "run_month text, item_code text, reference_group text, group_children integer,"
    " group_matched integer, all_children integer, all_matched integer, group_share numeric, all_share numeric,"
    " lift numeric",
    "threshold_sensitivity": "run_month text, type_code text, type_label_ja text, threshold integer,"
    " children_in_age_range integer, flagged_count integer, flagged_share numeric, is_current_threshold boolean",
    "flag_disparity": "run_month text, dimension text, dimension_value text, type_code text,"
    " children_in_age_range integer, flagged_count integer, flag_rate numeric",
    "pseudo_child_scores": "run_month text, pseudo_child_id text, pseudo_household_id text, age_band text,"
    " sex text, flagged_types text, matched_items text, total_points numeric, matched_item_count integer,"
    " unknown_item_count integer, flagged_type_count integer, max_type_score numeric, is_flagged boolean",
    "pseudo_child_type_scores": "run_month text, pseudo_child_id text, age_band text, type_code text,"
    " matched_items text, unknown_items text, score numeric, threshold numeric, is_in_age_range boolean,"
    " is_flagged boolean",
}


def build_dashboard_fixture(settings, schemas: dict[str, str] = FIXTURE_SCHEMAS) -> None:
    """FIXTURE: create and fill the fixture schemas (as the cluster's superuser), read-only grants."""
    from mimamori.stack import pg
    from psycopg import sql

    rows = _fixture_month_rows()
    with pg.connect(settings, autocommit=False) as conn:
        for logical, schema in schemas.items():
            # FIXTURE month: plain grants to the audiences' group roles (no row-level security here;
            # the real published month gets the declaration's: tests/security)
            readers = (
                ("aud_analyst", "aud_coordinator")
                if logical == "published_pseudo"
                else ("aud_coordinator", "aud_staff", "aud_school_board")
            )
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
            conn.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
            conn.execute(
                sql.SQL("comment on schema {} is 'FIXTURE for tests/e2e/test_dashboards.py'").format(
                    sql.Identifier(schema)
                )
            )
            for reader in readers:
                conn.execute(
                    sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(schema), sql.Identifier(reader))
                )
            for table, ddl in _FIXTURE_DDL.items():
                if table.startswith("pseudo_") != (logical == "published_pseudo"):
                    continue
                ident = sql.Identifier(schema, table)
                conn.execute(sql.SQL("create table {} (" + ddl + ")").format(ident))
                data = rows[table]
                if logical == "published_pseudo":  # published_pseudo holds the latest month only
                    data = [r for r in data if r["run_month"] == FIXTURE_MONTHS[-1]]
                cols = [c.split()[0] for c in ddl.split(",")]
                with conn.cursor() as cur:
                    cur.executemany(
                        sql.SQL("insert into {} ({}) values ({})").format(
                            ident,
                            sql.SQL(", ").join(map(sql.Identifier, cols)),
                            sql.SQL(", ").join(sql.Placeholder() * len(cols)),
                        ),
                        [tuple(r.get(c) for c in cols) for r in data],
                    )
                for reader in readers:
                    conn.execute(sql.SQL("grant select on {} to {}").format(ident, sql.Identifier(reader)))
        conn.commit()


def drop_dashboard_fixture(settings, schemas: dict[str, str] = FIXTURE_SCHEMAS) -> None:
    from mimamori.stack import pg
    from psycopg import sql

    with pg.connect(settings, autocommit=True) as conn:
        for schema in schemas.values():
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))


def _latest_publication(settings) -> str | None:
    from mimamori.stack import pg

    with pg.connect(settings, autocommit=True) as conn:
        if not conn.execute("select to_regclass('published.publication') is not null").fetchone()[0]:
            return None
        if not conn.execute("select count(*) from published.publication").fetchone()[0]:
            return None
        # The dashboards open on the newest published month (max run_month in history), which is
        # the latest publication unless an older month was re-run and published again since.
        row = conn.execute("select max(run_month) from history.child_scores").fetchone()
    return row[0] if row else None


@pytest.fixture(scope="session")
def dashboard_month(superset, warehouse):
    """The month the dashboards must show, with the bundle imported and the roles provisioned.

    Yields a dict: run_month, schemas (logical → actual), is_fixture, import_stats.
    """
    from mimamori import superset_assets

    real_month = _latest_publication(warehouse)
    if real_month:
        schemas = {"history": "history", "published_pseudo": "published_pseudo"}
        month = real_month
    else:
        schemas = dict(FIXTURE_SCHEMAS)
        build_dashboard_fixture(warehouse, schemas)
        month = FIXTURE_MONTHS[-1]
    api = superset_assets.admin_api(warehouse)
    stats = superset_assets.import_bundle(warehouse, schemas=schemas, api=api)
    superset_assets.provision_roles(warehouse, api=api)
    try:
        yield {"run_month": month, "schemas": schemas, "is_fixture": not real_month, "import_stats": stats}
    finally:
        if not real_month:
            drop_dashboard_fixture(warehouse, schemas)
