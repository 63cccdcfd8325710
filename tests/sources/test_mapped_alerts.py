"""Who hears about what: a mapping problem is mailed to IT, the data's problems to the data owner, and
gate results name the file, row and column as delivered (real cluster, real GX, real mail catcher)."""

from __future__ import annotations

import time
from email import message_from_bytes, policy

import pytest
from kodomo_shien_town import deliver, mapping_text, write
from mimamori.ingest import IngestRejected, ingest_source

SOURCE = "kodomo_shien"


def _mails(mail_dir, before: set[str], expected: int, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        paths = sorted(p for p in mail_dir.glob("*.eml") if p.name not in before)
        if len(paths) >= expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in paths]


def _body(message) -> str:
    return message.get_body(preferencelist=("html", "plain")).get_content()


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    root = tmp_path_factory.mktemp("mapped_alerts")
    (root / "town" / "sources").mkdir(parents=True)
    return root


def _load(town, month, run_id, loader_dsn, registry):
    (town / "town" / "sources" / f"{SOURCE}.yaml").write_text(mapping_text(month), encoding="utf-8")
    return ingest_source(
        SOURCE, month, town / "inbox", loader_dsn, town / "quarantine", run_id=run_id, registry=registry,
        town=town / "town", log=lambda _: None,
    )  # fmt: skip


def test_mapping_problems_to_it_data_problems_to_the_owner(
    town, loader_dsn, registry, settings, airflow_ready, mailcatcher
):
    from mimamori.alerts import send_alerts

    month, run_id = "2033-06", "mapped-alerts-1"
    folder = deliver(town / "inbox" / month / SOURCE, month)
    write(folder, "YOTAI.csv", ["0000100020,Z,20240401,,○,20240402,2033/07/05"])  # IT: no code Z
    write(folder, "地域型.csv", ["一覧", "児童コード,施設,入所,退所", "0000100012,,45383,"], "utf-8")  # owner
    with pytest.raises(IngestRejected):
        _load(town, month, run_id, loader_dsn, registry)
    before = {p.name for p in mailcatcher.glob("*.eml")}
    sent = send_alerts(settings, month, [], run_id=run_id, registry=registry, include_it_summary=False)
    assert sorted(s["source"] for s in sent) == sorted([SOURCE, f"__it__:{SOURCE}"])
    mails = _mails(mailcatcher, before, 2)
    owner = next(m for m in mails if registry[SOURCE].data_owners[0].email in m["X-Envelope-To"])
    it = next(m for m in mails if settings.it_email in m["X-Envelope-To"])
    owner_body, it_body = _body(owner), _body(it)
    assert "地域型.csv" in owner_body and "required_blank" in owner_body and "「施設」" not in owner["Subject"]
    assert "unmapped_code" not in owner_body
    # YOTAI.csv reaches the owner only as a name the mapping takes, in the notice of the stray readme.txt
    assert all("readme.txt" in line for line in owner_body.splitlines() if "YOTAI.csv" in line)
    assert "対応表" in it["Subject"] and "unmapped_code" in it_body and "YOTAI.csv" in it_body
    assert "2列目" in it_body and "1種類" in it_body
    assert "required_blank" not in it_body
    assert registry[SOURCE].data_owners[0].email not in it["X-Envelope-To"]
    # the file at fault for the owner moved to quarantine; the one for IT stayed
    assert (folder / "YOTAI.csv").exists() and not (folder / "地域型.csv").exists()


def test_raw_gate_names_the_delivered_file_row_and_column(town, loader_dsn, registry, settings, wh_conn):
    from mimamori import quality

    month, run_id = "2033-07", "mapped-gate-1"
    deliver(town / "inbox" / month / SOURCE, month)
    assert _load(town, month, run_id, loader_dsn, registry).ok
    # what only the second line of defence sees: a value gone after the load
    wh_conn.execute(
        "update raw.kodomo_shien__childcare_enrolments set facility = null"
        " where run_month = %s and run_id = %s and source_file = '地域型.csv'",
        (month, run_id),
    )
    wh_conn.execute(
        "update raw.kodomo_shien__yotaikyo set category = 'X' where run_month = %s and run_id = %s"
        " and source_row_number = 2",
        (month, run_id),
    )
    results = quality.validate_raw(settings, month, [SOURCE], run_id=run_id, registry=registry)
    failed = results[SOURCE].failed
    blank = next(i for i in failed if i["check_id"] == "not_null:facility")
    assert (blank["file"], blank["rows"], blank["unexpected_count"], blank["column"]) == ("地域型.csv", [3], 1, "施設")
    assert blank["description_ja"] == "必須項目「施設」が空欄です"
    code = next(i for i in failed if i["check_id"] == "in_set:category")
    assert (code["file"], code["rows"], code["column"]) == ("YOTAI.csv", [2], "2列目")
    assert "「2列目」" in code["description_ja"]


@pytest.fixture(scope="module", autouse=True)
def _cleanup(warehouse):
    yield
    from mimamori.stack import pg

    with pg.connect(warehouse, autocommit=True) as conn:
        for spec in (
            "kodomo_shien__yotaikyo",
            "kodomo_shien__child_rearing_allowance",
            "kodomo_shien__single_parent_medical",
            "kodomo_shien__childcare_enrolments",
            "kodomo_shien__consultations",
        ):
            if conn.execute("select to_regclass(%s)", (f"raw.{spec}",)).fetchone()[0]:
                conn.execute(f"delete from raw.{spec} where run_month in ('2033-06', '2033-07')")
        for table in ("file_loads", "rejections", "run_steps", "deliveries", "alerts_sent"):
            if conn.execute("select to_regclass(%s)", (f"ingest.{table}",)).fetchone()[0]:
                conn.execute(f"delete from ingest.{table} where run_month in ('2033-06', '2033-07')")
