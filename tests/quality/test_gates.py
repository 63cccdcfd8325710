"""The three gates on clean and broken fixture months, with real GX and the real test cluster."""

from __future__ import annotations

import json
import re

import pytest
from quality_data import BAD, CLEAN, GATE_SCHEMAS, PERSONAL, PREV


def _ids(result) -> set[str]:
    return {item["check_id"] for item in result.failed}


def test_raw_gate_passes_on_clean_months(gate_results, registry):
    for month in (PREV, CLEAN):
        results = gate_results[("raw", month)]
        assert set(results) == set(registry)
        for name, r in results.items():
            assert r.success and not r.skipped, (month, name, r.failed)
            assert r.checks > 0
    # the row-count band needs a previous month: absent for PREV, present for CLEAN
    assert gate_results[("raw", CLEAN)]["jumin"].checks == gate_results[("raw", PREV)]["jumin"].checks + 1


def test_raw_gate_names_every_broken_expectation_with_row_numbers(gate_results):
    results = gate_results[("raw", BAD)]
    assert results["jumin"].success and results["kodomo_shien"].success
    fukushi = results["fukushi"]
    assert not fukushi.success
    by_id = {(i["file"], i["check_id"]): i for i in fukushi.failed}
    assert set(by_id) == {
        ("障害者手帳.csv", "in_set:certificate_type"),
        ("障害者手帳.csv", "unique:atena_no+certificate_type"),
        ("障害者手帳.csv", "not_after_extracted:issued_on"),
        ("要介護認定.csv", "not_before:certified_on"),
        ("相談記録.csv", "not_null:kind"),
    }
    assert by_id[("障害者手帳.csv", "in_set:certificate_type")]["rows"] == [3]
    assert by_id[("障害者手帳.csv", "unique:atena_no+certificate_type")]["rows"] == [2, 4]
    assert by_id[("障害者手帳.csv", "unique:atena_no+certificate_type")]["unexpected_count"] == 2
    assert by_id[("障害者手帳.csv", "not_after_extracted:issued_on")]["rows"] == [5]
    assert by_id[("要介護認定.csv", "not_before:certified_on")]["rows"] == [6]
    assert by_id[("相談記録.csv", "not_null:kind")]["rows"] == [7]
    assert by_id[("相談記録.csv", "not_null:kind")]["expectation"] == "expect_column_values_to_not_be_null"
    katei = results["kodomo_katei"]
    assert [(i["check_id"], i["observed"]) for i in katei.failed] == [("row_count", 2)]
    gakko = results["gakko"]
    assert (gakko.success, gakko.skipped, gakko.reason) == (False, True, "rejected_at_ingestion")


def test_identity_gate(gate_results, settings, registry, thresholds):
    clean = gate_results[("identity", CLEAN)]
    assert clean["jumin"].skipped and clean["jumin"].success  # the spine has no link rows
    assert all(r.success for r in clean.values())
    bad = gate_results[("identity", BAD)]
    assert _ids(bad["fukushi"]) == {
        "unmatched_share:fukushi__consultations",
        "review_share:fukushi__disability_medical",
    }
    unmatched = next(i for i in bad["fukushi"].failed if i["check_id"].startswith("unmatched"))
    assert unmatched["rows"] == [2, 3, 4, 5] and unmatched["unexpected_count"] == 4
    assert abs(unmatched["observed"] - 0.4) < 1e-9
    assert all(r.success for n, r in bad.items() if n != "fukushi")


def test_marts_gate(gate_results):
    assert gate_results[("marts", CLEAN)]["marts"].success
    bad = gate_results[("marts", BAD)]["marts"]
    assert _ids(bad) == {
        "flagged_share:poverty",
        "flag_has_evidence",
        "age_in_scope:qa_quality.child_type_scores.age",
    }


#: (where in thresholds.yml, the value set there, the key the error must name): a relation that is
#: no relation of the dbt project, one dbt makes but the warehouse lacks, a column that is not there
MISCONFIGURED = [
    (("identity", "relation"), "int_identity__no_such_links", "identity.relation"),
    (("identity", "status_column"), "no_such_status", "identity.status_column"),
    (("marts", "scores", "relation"), "marts.no_such_scores", "marts.scores.relation"),
    (("marts", "scores", "flagged_column"), "no_such_flag", "marts.scores.flagged_column"),
    (("marts", "scores_history"), "history.no_such_scores", "marts.scores_history"),
    (("marts", "ages"), [{"relation": "marts.children", "column": "age"}], "marts.ages[0].relation"),
    (("marts", "ages"), [{"relation": "marts.child_type_scores", "column": "no_such_age"}], "marts.ages[0].column"),
    (("raw", "children_ages", "files"), {"gakko__no_such_file": "birth_date"}, "raw.children_ages.files.gakko__"),
    (("raw", "children_ages", "files"), {"gakko__school_register": "no_birth_date"}, "raw.children_ages.files.gakko__"),
    (("raw", "row_count_band", "per_table"), {"fukushi__no_such_file": 0.3}, "raw.row_count_band.per_table.fukushi__"),
]


@pytest.mark.parametrize("where, value, key", MISCONFIGURED, ids=[m[2] + ":" + str(m[1])[:30] for m in MISCONFIGURED])
def test_a_configured_relation_or_column_that_is_missing_fails_loudly(
    settings, registry, thresholds, quality_data, where, value, key
):
    """Each gate resolves thresholds.yml's relations through dbt's manifest and the warehouse: a
    relation or column that is not there stops the gate with an error naming the key — never a
    check silently left out (issue #20), never a gate skipped as if the model were not built yet."""
    import copy

    from mimamori import quality

    t = copy.deepcopy(thresholds)
    node = t
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = value
    gate = {
        "raw": lambda: quality.validate_raw(settings, CLEAN, registry=registry, thresholds=t),
        "identity": lambda: quality.validate_identity(
            settings, CLEAN, registry=registry, thresholds=t, schemas=GATE_SCHEMAS
        ),
        "marts": lambda: quality.validate_marts(settings, CLEAN, thresholds=t, schemas=GATE_SCHEMAS),
    }[where[0]]
    with pytest.raises(quality.GateConfigError, match=re.escape(key)):
        gate()


def test_an_evidence_check_that_cannot_run_fails_the_gate(settings, thresholds, quality_data):
    """The evidence check ran on a misnamed relation for months without anyone knowing: now a
    configured relation or column that does not exist stops the gate with a clear error."""
    import copy

    from mimamori import quality

    for key, value in (("relation", "marts.child_type_evidence"), ("points_column", "no_such_points")):
        t = copy.deepcopy(thresholds)
        t["marts"]["evidence"][key] = value
        with pytest.raises(quality.GateConfigError, match=f"marts.evidence.{key}"):
            quality.validate_marts(settings, CLEAN, thresholds=t, schemas=GATE_SCHEMAS)


def test_publication_decision_respects_skip_policy(gate_results, registry):
    from dataclasses import replace

    from mimamori.quality import publication_decision

    clean = [gate_results[(s, CLEAN)] for s in ("raw", "identity", "marts")]
    assert publication_decision(clean, registry)["publish"]
    bad = [gate_results[(s, BAD)] for s in ("raw", "identity", "marts")]
    decision = publication_decision(bad, registry)
    assert not decision["publish"]
    assert set(decision["blocking"]) == {"fukushi", "kodomo_katei", "gakko", "marts"}
    skip = {**registry, "kodomo_katei": replace(registry["kodomo_katei"], on_failure="skip")}
    only_katei = [gate_results[("raw", BAD)]["kodomo_katei"]]
    decision = publication_decision(only_katei, skip)
    assert decision["publish"] and decision["skipped_sources"] == ["kodomo_katei"]
    # results survive an XCom round trip
    as_dicts = {k: v.to_dict() for k, v in gate_results[("raw", BAD)].items()}
    assert json.loads(json.dumps(as_dicts))
    assert publication_decision(as_dicts, registry)["blocking"] == ["fukushi", "gakko", "kodomo_katei"]


def test_no_personal_value_in_results_logs_or_data_docs(gate_results, settings):
    from mimamori.quality import docs_dir, gx_dir

    texts = {"log": "\n".join(gate_results["log"])}
    for key, value in gate_results.items():
        if key not in ("log", "timings"):
            texts[str(key)] = json.dumps({k: v.to_dict() for k, v in value.items()}, ensure_ascii=False)
    html_pages = sorted(docs_dir(settings).rglob("*.html"))
    assert any("validations" in str(p) for p in html_pages)
    for path in sorted(gx_dir(settings).rglob("*")):
        if path.is_file() and path.suffix in (".html", ".json", ".yml", ".js"):
            texts[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    password = settings.role_passwords.get("transformer")
    for where, text in texts.items():
        for value in PERSONAL:
            found = value in text
            assert not found, f"a personal value found in {where} (value not shown)"
        if password:
            assert password not in text, f"a password found in {where}"


def test_timings_are_recorded(gate_results):
    timings = gate_results["timings"]
    print("\nquality gate timings (s):", {f"{k[0]} {k[1]}": round(v, 2) for k, v in timings.items()})
    for stage_month, results in gate_results.items():
        if stage_month in ("log", "timings"):
            continue
        for r in results.values():
            if not r.skipped:
                print(f"  {stage_month[0]:8} {stage_month[1]} {r.source:13} {r.checks:4} expectations {r.seconds:.2f}s")


RULES = "qa_rules_change"


@pytest.fixture()
def rules_snapshot(warehouse, quality_data):
    """Rule seeds (types, type_items, item_catalogue) in a schema of their own, and a snapshot of
    them as month CLEAN was published — the caller changes a rule or not before the gate of BAD."""
    from mimamori.stack import pg

    with pg.connect(warehouse, autocommit=True) as conn:
        conn.execute(f"drop schema if exists {RULES} cascade")
        conn.execute(f"create schema {RULES}")
        conn.execute(f"create table {RULES}.types (type_code text, label_ja text, threshold integer)")
        conn.execute(f"create table {RULES}.type_items (type_code text, item_code text, weight integer)")
        conn.execute(f"create table {RULES}.item_catalogue (item_code text, label_ja text, lookback text)")
        conn.execute(f"insert into {RULES}.types values ('poverty', '貧困', 3), ('abuse', '虐待', 2)")
        conn.execute(f"insert into {RULES}.type_items values ('poverty', 'I08', 1), ('abuse', 'I17', 1)")
        conn.execute(
            f"insert into {RULES}.item_catalogue values ('I08', '就学援助', 'current'), ('I17', '相談', 'years:1')"
        )
        conn.execute(
            f"create table {RULES}.rules_snapshot (run_month text, seed text, row_key text, row_data jsonb,"
            " primary key (run_month, seed, row_key))"
        )
        for seed, key in (
            ("types", "type_code"),
            ("type_items", "type_code || '|' || item_code"),
            ("item_catalogue", "item_code"),
        ):
            conn.execute(
                f"insert into {RULES}.rules_snapshot select %s, %s, {key}, to_jsonb(t) from {RULES}.{seed} as t",
                (CLEAN, seed),
            )
        conn.execute(f"grant usage on schema {RULES} to transformer")
        conn.execute(f"grant select on all tables in schema {RULES} to transformer")
        yield conn
        conn.execute(f"drop schema if exists {RULES} cascade")


def _with_rules(thresholds):
    import copy

    t = copy.deepcopy(thresholds)
    t["marts"]["rules"] = {"snapshot": f"{RULES}.rules_snapshot", "schema": RULES}
    return t


def test_flagged_share_after_a_rule_change_is_reported_not_blocking(settings, thresholds, rules_snapshot):
    """Changing a threshold moves the share: the month after, the band check gives way to a notice
    naming the changed rule and the share before/after (issue #20: 'changing a threshold: 1 file,
    and the next month publishes with the change reported'). The other marts checks still run."""
    from mimamori import alerts, quality

    rules_snapshot.execute(f"update {RULES}.types set threshold = 2 where type_code = 'poverty'")
    marts = quality.validate_marts(settings, BAD, thresholds=_with_rules(thresholds), schemas=GATE_SCHEMAS)["marts"]
    assert "flagged_share:poverty" not in _ids(marts)
    assert _ids(marts) == {"flag_has_evidence", "age_in_scope:qa_quality.child_type_scores.age"}
    [notice] = marts.notices
    assert notice["kind"] == "rules_changed" and notice["since"] == CLEAN
    assert [(c["key"], c["change"]) for c in notice["changes"]] == [("poverty", "変更")]
    assert "3 → 2" in notice["changes"][0]["detail"]
    shares = {s["type_code"]: (s["before"], s["after"]) for s in notice["shares"]}
    assert shares == {"poverty": (pytest.approx(0.10), pytest.approx(0.30)), "abuse": (0.05, 0.05)}
    # the IT summary carries it
    _, _, body = alerts.it_summary(settings, BAD, [marts])
    assert "ルールが変わりました" in body and "30.0%" in body and "10.0%" in body


def test_flagged_share_without_a_rule_change_still_blocks(settings, thresholds, rules_snapshot):
    from mimamori import quality

    marts = quality.validate_marts(settings, BAD, thresholds=_with_rules(thresholds), schemas=GATE_SCHEMAS)["marts"]
    assert "flagged_share:poverty" in _ids(marts) and not marts.success
    assert marts.notices == []
