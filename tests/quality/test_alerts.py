"""Owner e-mails through Airflow's SMTP connection into the real mail catcher."""

from __future__ import annotations

import time

import pytest
from mimamori import quality
from quality_data import ATTEMPT, BAD, CLEAN, PERSONAL

RUN_ID = ATTEMPT


def _new_messages(mail_dir, before: set[str], expected: int, timeout: float = 10.0):
    from mimamori.stack.mailcatcher import read_messages

    deadline = time.monotonic() + timeout
    while True:
        paths = sorted(p for p in mail_dir.glob("*.eml") if p.name not in before)
        if len(paths) >= expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    by_name = {p.name: p for p in paths}
    messages = []
    for path in by_name.values():
        from email import message_from_bytes, policy

        messages.append(message_from_bytes(path.read_bytes(), policy=policy.default))
    assert read_messages  # the catcher's own reader parses the same files
    return messages


def _body(message) -> str:
    part = message.get_body(preferencelist=("html", "plain"))
    return part.get_content()


@pytest.fixture(scope="module")
def sent_bad(airflow_ready, mailcatcher, settings, registry, gate_results):
    from mimamori.alerts import send_alerts

    results = [gate_results[("raw", BAD)], gate_results[("identity", BAD)], gate_results[("marts", BAD)]]
    before = {p.name for p in mailcatcher.glob("*.eml")}
    sent = send_alerts(settings, BAD, results, run_id=RUN_ID, registry=registry)
    messages = _new_messages(mailcatcher, before, expected=len(sent))
    return sent, messages, results, before


def test_one_mail_per_failing_source_naming_every_rule(sent_bad, registry, settings):
    sent, messages, _, _ = sent_bad
    assert sorted(s["source"] for s in sent) == ["__it__", "fukushi", "gakko", "kodomo_katei"]
    assert all(s["status"] == "sent" for s in sent)
    assert len(messages) == 4
    owners = {}
    for m in messages:
        to = m["X-Envelope-To"]
        owners.setdefault(to, []).append(m)
    for source in ("fukushi", "gakko", "kodomo_katei"):
        address = registry[source].data_owners[0].email
        mails = [m for m in messages if address in m["X-Envelope-To"] and "【要対応】" in m["Subject"]]
        assert len(mails) == 1, source
        subject = mails[0]["Subject"]
        assert BAD in subject and "問題があります" in subject
        assert any(ord(ch) > 0x3000 for ch in subject)
    by_source = {s["source"]: s for s in sent}
    bodies = {s: _body(next(m for m in messages if m["Subject"] == by_source[s]["subject"])) for s in by_source}
    fukushi = bodies["fukushi"]
    for text in (
        "障害者手帳.csv",
        "要介護認定.csv",
        "相談記録.csv",
        "障がい者医療.csv",
        "expect_column_values_to_be_in_set",
        "expect_compound_columns_to_be_unique",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_values_to_be_between",
        "expect_column_values_to_not_be_null",
        "expect_column_mean_to_be_between",
        "「相談種別」",
        "2, 4行目",
        "2, 3, 4, 5行目",
        "再提出の方法",
    ):
        assert text in fukushi, text
    # The link to the month's Japanese summary in the data docs, under the docs base URL.
    assert quality.month_docs_url(settings, BAD) in fukushi
    assert by_source["fukushi"]["rules"] == sorted(
        [
            "raw:in_set:certificate_type",
            "raw:unique:atena_no+certificate_type",
            "raw:not_after_extracted:issued_on",
            "raw:not_before:certified_on",
            "raw:not_null:kind",
            "identity:unmatched_share:fukushi__consultations",
            "identity:review_share:fukushi__disability_medical",
        ]
    )
    gakko = bodies["gakko"]
    assert "encoding" in gakko and "required_blank" in gakko and "学齢簿.csv" in gakko and "給食費.csv" in gakko
    assert by_source["gakko"]["rules"] == ["ingest:encoding", "ingest:required_blank"]
    assert "expect_table_row_count_to_be_between" in bodies["kodomo_katei"]
    it = bodies["__it__"]
    assert "公開停止" in by_source["__it__"]["subject"]
    assert by_source["__it__"]["to"] == [settings.it_email]
    for source in registry:
        assert source in it


def test_mails_carry_no_personal_value(sent_bad):
    _, messages, _, _ = sent_bad
    for m in messages:
        text = m["Subject"] + _body(m)
        for value in PERSONAL:
            found = value in text
            assert not found, "a personal value in a mail (value not shown)"


def test_a_retry_does_not_send_twice(sent_bad, settings, registry, mailcatcher):
    from mimamori.alerts import send_alerts

    sent, _, results, before = sent_bad
    now = {p.name for p in mailcatcher.glob("*.eml")}
    again = send_alerts(settings, BAD, results, run_id=RUN_ID, registry=registry)
    assert {s["status"] for s in again} == {"already_sent"}
    time.sleep(0.5)
    assert {p.name for p in mailcatcher.glob("*.eml")} == now


def test_clean_month_mails_only_it(airflow_ready, mailcatcher, settings, registry, gate_results):
    from mimamori.alerts import send_alerts

    results = [gate_results[(s, CLEAN)] for s in ("raw", "identity", "marts")]
    before = {p.name for p in mailcatcher.glob("*.eml")}
    sent = send_alerts(settings, CLEAN, results, run_id=RUN_ID, registry=registry)
    assert [s["source"] for s in sent] == ["__it__"]
    # Clean gates, but this attempt published nothing: IT reads what happened, not what could have.
    assert "問題のある提供元 0件" in sent[0]["subject"] and "公開停止" in sent[0]["subject"]
    assert "公開しました" not in sent[0]["subject"]
    assert len(_new_messages(mailcatcher, before, expected=1)) == 1


def test_the_it_summary_says_published_only_with_a_publication_of_the_attempt(settings, registry, gate_results):
    from mimamori.alerts import it_summary

    results = [gate_results[(s, CLEAN)] for s in ("raw", "identity", "marts")]
    published = {"published": True, "run_id": RUN_ID, "steps": {}, "failed_steps": [], "publication": {}}
    _, subject, body = it_summary(settings, CLEAN, results, registry=registry, outcome=published)
    assert "公開しました" in subject and RUN_ID in body
    not_published = {
        **published,
        "published": False,
        "failed_steps": [{"ja": "公開 — 拒否（前の段階が不合格）"}],
    }
    _, subject, body = it_summary(settings, CLEAN, results, registry=registry, outcome=not_published)
    assert "公開停止" in subject and "公開しなかった理由" in body and "拒否" in body
    _, subject, _ = it_summary(settings, CLEAN, results, registry=registry)
    assert "公開停止" in subject, "without an outcome nothing may claim a publication"
