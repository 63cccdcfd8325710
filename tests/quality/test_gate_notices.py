"""Notices: told to the data owner as what they are, never holding the month back.

A child aged 19 (or born after the as-of date) in a children's file is a raw-gate check of
severity ``notice`` (mimamori/expectations/thresholds.yml raw.children_ages): the gate passes, the owner
gets a 確認のお願い naming file, rows and check — never the birth date. An unexpected file name
(ingest.notices) reaches the same mail.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from mimamori import quality
from quality_data import AGES, ATTEMPT, PERSONAL

#: (source_row_number, birth date, out of range on 1999-04-30?) — ages as dbt's age_on counts them
BIRTHS = [
    (3, dt.date(1980, 4, 30), True),  # 19 on the as-of date
    (4, dt.date(1999, 5, 2), True),  # born after the as-of date (before the 抽出日 1999-05-05)
    (5, dt.date(1980, 5, 2), False),  # still 18
    (6, dt.date(1999, 4, 30), False),  # born on the as-of date: 0
]
OUT_OF_RANGE = [row for row, _, out in BIRTHS if out]


@pytest.fixture(scope="module")
def ages_gate(settings, registry, thresholds, quality_data):
    from mimamori.stack import pg

    with pg.connect(settings, autocommit=True) as conn:
        for spec in registry["gakko"].files:
            for row, birth, _ in BIRTHS:
                conn.execute(
                    f'update raw."{spec.raw_table}" set birth_date = %s where run_month = %s and source_row_number = %s',
                    (birth, AGES, row),
                )
    return quality.validate_raw(settings, AGES, ["gakko"], run_id=ATTEMPT, registry=registry, thresholds=thresholds)[
        "gakko"
    ]


def test_out_of_range_ages_are_notices_and_the_gate_passes(ages_gate, registry):
    assert ages_gate.success and ages_gate.failed == []
    by_file = {n["file"]: n for n in ages_gate.notices}
    assert sorted(by_file) == sorted(spec.file for spec in registry["gakko"].files)
    for n in by_file.values():
        assert n["check_id"] == "child_age:birth_date" and n["stage"] == "raw"
        assert n["rows"] == OUT_OF_RANGE and n["count"] == len(OUT_OF_RANGE)
        assert "0～18歳の範囲外" in n["description_ja"]
    decision = quality.publication_decision([ages_gate], registry)
    assert decision["publish"] and decision["blocking"] == []
    for page in ages_gate.pages:
        assert page["success"], "a notice does not fail the file's page"
        assert any(c["check_id"] == "child_age:birth_date" and c["severity"] == "notice" for c in page["checks"])


def test_the_severity_is_data(settings, registry, thresholds):
    """severity: block in thresholds.yml makes the same check fail the gate (no code change)."""
    from mimamori.expectations import raw_suites

    spec = registry["gakko"].file("学齢簿.csv")
    (check,) = [c for c in raw_suites.file_checks(spec, thresholds, None, AGES) if c.check_id.startswith("child_age")]
    assert check.severity == "notice"
    assert (check.kwargs["min_value"], check.kwargs["max_value"]) == ("1980-05-02", "1999-04-30")
    blocking = {**thresholds, "raw": {**thresholds["raw"], "children_ages": {**thresholds["raw"]["children_ages"]}}}
    blocking["raw"]["children_ages"]["severity"] = "block"
    (check,) = [c for c in raw_suites.file_checks(spec, blocking, None, AGES) if c.check_id.startswith("child_age")]
    assert check.severity == "block"
    assert not [
        c for c in raw_suites.file_checks(registry["jumin"].files[0], thresholds, None, AGES) if "age" in c.check_id
    ]


def test_the_owner_is_told_file_rows_and_rule_never_the_birth_date(
    ages_gate, airflow_ready, mailcatcher, settings, registry, tmp_path
):
    from email import message_from_bytes, policy

    from mimamori.alerts import send_alerts
    from mimamori.ingest.limits import Limits
    from mimamori.ingest.load import _insert_findings, _read_source
    from mimamori.stack import pg

    # an unexpected file name of the same attempt, as the loader records it
    folder = tmp_path / "gakko"
    folder.mkdir()
    (folder / "学齢簿 (1).csv").write_bytes(b"x\r\n")
    _, notices = _read_source(
        registry["gakko"], folder, AGES, Limits.from_settings(settings), lambda _: None, registry=registry
    )
    with pg.connect(settings, role="loader", autocommit=True) as conn:
        _insert_findings(conn, "notices", AGES, registry["gakko"], ATTEMPT, notices)

    before = {p.name for p in mailcatcher.glob("*.eml")}
    sent = send_alerts(settings, AGES, [ages_gate], run_id=ATTEMPT, registry=registry, include_it_summary=False)
    assert [(s["source"], s["status"]) for s in sent] == [("gakko", "sent")]
    assert {"raw:child_age:birth_date", "ingest:unexpected_file_name"} <= set(sent[0]["rules"])
    deadline = time.monotonic() + 10
    while not (new := [p for p in mailcatcher.glob("*.eml") if p.name not in before]) and time.monotonic() < deadline:
        time.sleep(0.2)
    (path,) = new
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert "【確認のお願い】" in message["Subject"] and "【要対応】" not in message["Subject"]
    assert registry["gakko"].data_owners[0].email in message["X-Envelope-To"]
    body = message.get_body(preferencelist=("html",)).get_content()
    assert "学齢簿 (1).csv" in body and "ファイル名が想定と違うため読み込んでいません" in body
    assert "想定しているファイル名は「学齢簿.csv」" in body
    assert "0～18歳の範囲外" in body and "child_age:birth_date" in body and "3, 4行目" in body
    assert "公開は止めていません" in body or "公開は止めません" in body
    from mimamori.demo import notice_lines, notices

    told = notices(settings, AGES, ATTEMPT)  # what make run-month lists
    assert ("gakko", "学齢簿 (1).csv", "unexpected_file_name", 0) in told
    assert any("学齢簿 (1).csv / unexpected_file_name" in line for line in notice_lines(told))
    forbidden = PERSONAL + [d.isoformat() for _, d, _ in BIRTHS] + [d.strftime("%Y/%m/%d") for _, d, _ in BIRTHS]
    for value in forbidden:
        assert value not in body and value not in message["Subject"]


def test_the_it_summary_counts_the_notices_beside_the_load(settings, registry):
    from mimamori.alerts import it_summary

    told = {"gakko": [{"file": "学齢簿 (1).csv", "rule": "unexpected_file_name", "rows": []}]}
    _, _, body = it_summary(settings, AGES, [], {}, registry=registry, notices_by_source=told)
    assert body.count("お知らせ 1件") == 1 and "学齢簿 (1).csv" not in body  # counts only, for IT
