"""Disclosure control (issue 18) on two real published months: attack every audience's view.

* public: every month's transparency report as published HTML, attacked together
  (tests/disclosure/attacker.py, no code shared with mimamori.sdc): every hidden count keeps an
  integer range at least the public threshold wide;
* analyst: every table the ``analyst`` role can read in published_pseudo (and what it read in the
  earlier month, history.pseudo__*) is either its pseudonymised rows — k-anonymous on their
  quasi-identifiers — or an aggregate recounted exactly from those rows, so there is nothing
  hidden to undo; a table the test cannot recount fails it;
* every audience: no category of any aggregate is made (mostly) of the children under 支援措置,
  judged by who is in it, with the category sizes tied to the published counts.

Failure messages name cells and widths, never a value.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict

import pytest

from disclosure.attacker import attack_public, parse_report

pytestmark = pytest.mark.usefixtures("published_months")


def _threshold(conn, audience: str) -> int:
    return conn.execute("select threshold from rules.disclosure_rules where audience = %s", (audience,)).fetchone()[0]


@pytest.fixture(scope="module")
def conn(published_months):
    from mimamori.stack import pg

    with pg.connect(published_months.settings, autocommit=True) as c:
        yield c


# --- the public ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def public_attack(published_months):
    texts = {m: p.read_text(encoding="utf-8") for m, p in published_months.reports.items()}
    return texts, attack_public(texts)


def test_every_hidden_count_of_the_public_reports_keeps_a_wide_range(public_attack, conn):
    texts, findings = public_attack
    threshold = _threshold(conn, "public")
    assert threshold == 5
    assert set(texts) == {"2026-09", "2026-10"}
    per_month = Counter(f.month for f in findings)
    # something is hidden in each month's tables and in the outcome series across months
    assert per_month["2026-09"] > 20 and per_month["2026-10"] > 20, per_month
    assert per_month["series"] >= 3, per_month
    narrow = [f"{f.month} {f.cell}: width {f.width:g}" for f in findings if f.width < threshold]
    assert narrow == [], f"{len(narrow)} hidden count(s) narrowed below {threshold}: {narrow[:20]}"
    inexact = [f.cell for f in findings if not f.exact]
    assert inexact == [], f"integer bounds not proven optimal for {len(inexact)} cell(s)"


def test_the_attacker_undoes_primary_suppression_alone(published_months, conn):
    """The attack can fail: show the complementary cells of the audit again and it narrows cells."""
    month = "2026-10"
    text = published_months.reports[month].read_text(encoding="utf-8")
    complements = conn.execute(
        "select label, value from history.sdc_report_cells where run_month = %s and reason = 'complementary'",
        (month,),
    ).fetchall()
    assert complements, "the report needed complementary suppression"
    parsed = parse_report(month, text)
    revealed = _reveal(text, parsed, conn, month)
    findings = attack_public({month: revealed}, integer=False)  # the relaxation's narrow is narrow for sure
    narrow = [f for f in findings if f.month == month and f.width < 5]
    assert narrow, "with the complements shown, a primary cell must be recoverable"


def _reveal(text: str, parsed, conn, month: str) -> str:
    """The report with its complementary cells printed: rebuild the two breakdown tables."""
    import json

    rows = conn.execute(
        "select cell_key, value from history.sdc_report_cells where run_month = %s and reason = 'complementary'",
        (month,),
    ).fetchall()
    keys = {tuple(json.loads(k)): v for k, v in rows}
    types = {r[0]: r[1] for r in conn.execute("select type_code, label_ja from rules.types").fetchall()}
    bands = {r[0]: r[1] for r in conn.execute("select age_band, label_ja from rules.age_bands").fetchall()}
    out = text
    for key, value in keys.items():
        if key[0] not in ("age_band", "area"):
            continue
        row_label = bands.get(key[1], key[1]) if key[0] == "age_band" else key[1]
        col = {"children": "こどもの数", "_any": "いずれかの類型"}.get(key[2], types.get(key[2]))
        table = parsed.band_rows if key[0] == "age_band" else parsed.area_rows
        header = list(table[row_label])
        position = header.index(col)
        pattern = re.compile(r"(<tr><td>" + re.escape(row_label) + r"</td>)((?:<td[^>]*>[^<]*</td>)+)(</tr>)")
        match = pattern.search(out)
        tds = re.findall(r"<td[^>]*>[^<]*</td>", match.group(2))
        tds[position] = f'<td class="n">{value}</td>'
        out = out[: match.start(2)] + "".join(tds) + out[match.end(2) :]
    return out


def test_the_report_says_what_its_marks_mean_and_uses_them_so(published_months, conn):
    for month, path in published_months.reports.items():
        text = path.read_text(encoding="utf-8")
        section = text.split("<h2>1.")[1].split("<h2>3.")[0]
        assert "「X」" in section and "「—」" in section
        parsed = parse_report(month, text)
        ranges = parsed.types
        for band, columns in parsed.band_rows.items():
            lo, hi = parsed.bands[band]
            for col, value in columns.items():
                if col not in ranges:
                    assert value != "n/a", f"{month} {band} {col}"
                    continue
                tlo, thi = ranges[col]
                outside = hi < tlo or lo > thi
                # 「—」 exactly where the band lies outside the type's age range, never a printed 0
                assert (value == "n/a") == outside, f"{month} {band} {col}"
        for value in re.findall(r'<td class="n">([^<]*)</td>', section):
            if value in ("X", "—"):
                continue
            n = int(value.replace(",", ""))
            assert n == 0 or n >= 5, "a small count is printed"
        assert "不明" not in section, "no area category of its own for children without an area"


# --- the analyst ---------------------------------------------------------------------------------

SEX = {"1": "男", "2": "女"}


def _frame(conn, sql: str, params=()):
    import pandas as pd

    cur = conn.execute(sql, params)
    return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


@pytest.fixture(scope="module")
def analyst_views(published_months):
    """month → {table: DataFrame}: the latest month as the analyst role reads it, the earlier one
    as history.pseudo__* kept what was published to the analyst then."""
    from mimamori.stack import pg

    settings = published_months.settings
    views: dict[str, dict] = {}
    with pg.connect(settings, role="analyst", autocommit=True) as c:
        readable = [
            r[0]
            for r in c.execute(
                "select table_name from information_schema.tables where table_schema = 'published_pseudo'"
                " and has_table_privilege(quote_ident(table_schema) || '.' || quote_ident(table_name), 'select')"
            ).fetchall()
        ]
        latest = c.execute("select max(run_month) from published_pseudo.publication").fetchone()[0]
        views[latest] = {t: _frame(c, f'select * from published_pseudo."{t}"') for t in readable}
    with pg.connect(settings, autocommit=True) as c:
        for month in published_months.months:
            if month == latest:
                continue
            views[month] = {}
            for t in readable:
                if t == "publication":
                    continue
                views[month][t] = _frame(c, f'select * from history."pseudo__{t}" where run_month = %s', (month,))
    return views


def _rules(conn):
    items = _frame(
        conn,
        "select ti.type_code, ti.item_code, ti.weight, ti.group_key, ti.is_required, t.threshold, t.min_age,"
        " t.max_age from rules.type_items ti join rules.types t using (type_code)"
        " join rules.item_catalogue ic using (item_code) where ic.is_enabled and t.is_enabled",
    )
    return items


def _recount(views: dict, rules) -> dict[str, dict[tuple, dict[str, int]]]:
    """Every aggregate the analyst gets, recounted from its own rows: table → key → counts."""
    scores = views["pseudo_child_scores"]
    types = views["pseudo_child_type_scores"]
    items = views["pseudo_child_item_matches"]
    sex = scores.set_index("pseudo_child_id")["sex"].map(SEX)
    types = types.assign(sex=types["pseudo_child_id"].map(sex))
    out: dict[str, dict[tuple, dict[str, int]]] = defaultdict(dict)
    # flag_disparity by age band and sex
    for dim in ("age_band", "sex"):
        for (value, t), g in types.groupby([dim, "type_code"]):
            out["flag_disparity"][(dim, value, t)] = {
                "children_in_age_range": int(g["is_in_age_range"].sum()),
                "flagged_count": int(g["is_flagged"].sum()),
            }
        by = scores["age_band"] if dim == "age_band" else scores["sex"].map(SEX)
        for value, g in scores.groupby(by):
            out["flag_disparity"][(dim, value, "_any")] = {
                "children_in_age_range": len(g),
                "flagged_count": int(g["is_flagged"].sum()),
            }
    # threshold_sensitivity
    for t, g in types.groupby("type_code"):
        in_range = g[g["is_in_age_range"]]
        for k in range(1, 6):
            out["threshold_sensitivity"][(t, k)] = {
                "children_in_age_range": len(in_range),
                "flagged_count": int(((in_range["score"] >= k) & in_range["is_required_met"]).sum()),
            }
    # leave_one_item_out, from each child's matched items of the type and the public rules
    for t, g in types.groupby("type_code"):
        rule = rules[rules["type_code"] == t]
        weight = dict(zip(rule["item_code"], rule["weight"].astype(float), strict=True))
        group = {
            i: (gk if isinstance(gk, str) and gk else i)
            for i, gk in zip(rule["item_code"], rule["group_key"], strict=True)
        }
        required = set(rule.loc[rule["is_required"], "item_code"])
        threshold = float(rule["threshold"].iloc[0]) if len(rule) else math.inf
        flagged_all = int(g["is_flagged"].sum())
        for left_out in rule["item_code"]:
            req = required - {left_out}
            n = 0
            for matched, in_range in zip(g["matched_items"], g["is_in_age_range"], strict=True):
                if not in_range:
                    continue
                kept = [
                    i for i in (matched if isinstance(matched, str) else "").split() if i in weight and i != left_out
                ]
                best: dict[str, float] = {}
                for i in kept:
                    best[group[i]] = max(best.get(group[i], 0.0), weight[i])
                if sum(best.values()) >= threshold and (not req or any(i in req for i in kept)):
                    n += 1
            out["leave_one_item_out"][(t, left_out)] = {
                "flagged_count_all_items": flagged_all,
                "flagged_count_without_item": n,
                "flags_lost": flagged_all - n,
            }
    # data_coverage
    for (item, band), g in items.groupby(["item_code", "age_band"]):
        out["data_coverage"][("item", item, band)] = {
            "children": len(g),
            "children_with_unknown": int(g["is_unknown"].sum()),
        }
    for (t, band), g in types[types["is_in_age_range"]].groupby(["type_code", "age_band"]):
        out["data_coverage"][("type", t, band)] = {
            "children": len(g),
            "children_with_unknown": int(g["unknown_items"].fillna("").str.len().gt(0).sum()),
        }
    return out


KEYS = {
    "flag_disparity": ("dimension", "dimension_value", "type_code"),
    "threshold_sensitivity": ("type_code", "threshold"),
    "leave_one_item_out": ("type_code", "left_out_item_code"),
    "data_coverage": ("subject_kind", "subject_code", "age_band"),
}
ROWS = {"pseudo_child_scores", "pseudo_child_type_scores", "pseudo_child_item_matches"}
#: what the analyst's rows may never carry
FORBIDDEN = re.compile(r"area|address|household|dv|protection|person_id|name|birth|setai|atena", re.IGNORECASE)


def test_the_analyst_reads_nothing_its_own_rows_do_not_hold(analyst_views, conn):
    rules = _rules(conn)
    assert len(analyst_views) == 2
    for month, views in analyst_views.items():
        readable = set(views) - {"publication"}
        unknown = readable - ROWS - set(KEYS)
        assert not unknown, f"the analyst reads tables this attack cannot recount: {sorted(unknown)}"
        assert ROWS <= readable
        for table in ROWS:
            bad = [c for c in views[table].columns if FORBIDDEN.search(c) and c != "pseudo_child_id"]
            assert not bad, f"{table} carries {bad}"
        recount = _recount(views, rules)
        checked = 0
        for table in sorted(readable - ROWS):
            frame = views[table]
            counts = [
                c
                for c, dtype in frame.dtypes.items()
                if str(dtype).startswith(("int", "Int")) and c not in KEYS[table] and c != "run_month"
            ]
            assert len(frame), f"{month} {table} is empty"
            for row in frame.to_dict("records"):
                key = tuple(row[k] for k in KEYS[table])
                expected = recount[table].get(key)
                assert expected is not None, f"{month} {table}: a row the analyst's rows do not give"
                unmodelled = set(counts) - set(expected)
                assert not unmodelled, f"{month} {table}: count column(s) not recounted: {sorted(unmodelled)}"
                for c in counts:
                    assert row[c] == expected[c], f"{month} {table} {key[:-1]} {c}: not its rows' count"
                    checked += 1
        assert checked > 500, checked


def test_the_analysts_rows_are_k_anonymous_on_their_quasi_identifiers(analyst_views, conn):
    k = _threshold(conn, "analyst")
    assert k >= 2
    for month, views in analyst_views.items():
        scores = views["pseudo_child_scores"]
        types = views["pseudo_child_type_scores"]
        in_range = (
            types[types["is_in_age_range"]].groupby("pseudo_child_id")["type_code"].apply(lambda s: " ".join(sorted(s)))
        )
        classes = Counter(
            zip(scores["age_band"], scores["sex"], scores["pseudo_child_id"].map(in_range).fillna(""), strict=True)
        )
        assert len(classes) >= 10
        small = sum(1 for n in classes.values() if n < k)
        assert small == 0, f"{month}: {small} quasi-identifier combination(s) below {k}"


# --- 支援措置: never a category ----------------------------------------------------------------------


def _categories(snapshot):
    """category → members, for every breakdown any audience reads, built from who is in it."""
    cats: dict[tuple, set[str]] = defaultdict(set)
    for person, a in snapshot.children.items():
        cats[("area", a["area"])].add(person)
        cats[("age_band", a["age_band"])].add(person)
        cats[("sex", SEX.get(a["sex"], a["sex"]))].add(person)
        cats[("single_adult_household", "yes" if a["single"] else "no")].add(person)
    for group, members in snapshot.groups.items():
        cats[("reference_group", group)] = set(members) & set(snapshot.children)
    return cats


def test_no_category_of_any_view_is_made_of_the_children_under_shien_sochi(published_months, conn):
    for month in published_months.months:
        snap = published_months.snapshots[month]
        dv = {p for p, a in snap.children.items() if a["dv"]}
        assert len(dv) >= 5, "the town has children under 支援措置 to protect"
        cats = _categories(snap)
        # the categories are the published ones: their sizes are the published counts
        published = {
            (d, v): n
            for d, v, n in conn.execute(
                "select dimension, dimension_value, children_in_age_range from history.flag_disparity"
                " where run_month = %s and type_code = '_any'",
                (month,),
            ).fetchall()
        }
        for key, members in cats.items():
            if key[0] == "reference_group":
                continue
            assert published.get(key) == len(members), f"{month} {key[0]}: category sizes differ from published"
        groups = dict(
            conn.execute(
                "select reference_group, max(group_children) from history.item_relevance where run_month = %s"
                " group by reference_group",
                (month,),
            ).fetchall()
        )
        for group, n in groups.items():
            assert len(cats[("reference_group", group)]) == n, f"{month} reference group {group}: size differs"
        # every breakdown covers every child: the 支援措置 children are never the remainder of a total
        for dim in ("area", "age_band", "sex", "single_adult_household"):
            assert sum(len(m) for k, m in cats.items() if k[0] == dim) == len(snap.children), dim
        worst = 0.0
        for key, members in cats.items():
            if not members:
                continue
            assert members != dv, f"{month} {key[0]}: a category is exactly the 支援措置 children"
            assert not members <= dv, f"{month} {key[0]}: a category holds 支援措置 children only"
            if len(members) >= 5:  # a group of 2 may hold one by chance; a category is not made of them
                share = len(members & dv) / len(members)
                worst = max(worst, share)
                assert share < 0.5, f"{month} {key[0]}: a category is mostly 支援措置 children"
        assert worst < 0.2, f"{month}: the 支援措置 children are {worst:.0%} of a category"
        # the report's areas are the same categories: none is '不明' or holds them apart
        areas = {
            r[0] for r in conn.execute("select distinct area from history.flag_cells where run_month = %s", (month,))
        }
        assert areas == {k[1] for k in cats if k[0] == "area"}
    # the analyst's categories (its rows' age band × sex) likewise
    for month in published_months.months:
        snap = published_months.snapshots[month]
        dv = {p for p, a in snap.children.items() if a["dv"]}
        by_class: dict[tuple, set[str]] = defaultdict(set)
        for p, a in snap.children.items():
            by_class[(a["age_band"], a["sex"])].add(p)
        assert max(len(m & dv) / len(m) for m in by_class.values()) < 0.2
