"""Files in a mapped source's folder that no input of the town's mapping takes: never read, and the
data owner hears of them as of a contract folder's stray file — the ``unexpected_file_name`` notice,
naming the mapping's file pattern it probably missed (real ingest on the test cluster, real mail
catcher)."""

from __future__ import annotations

import time
from email import message_from_bytes, policy

import pytest
from kodomo_shien_town import deliver, mapping_text
from mimamori.ingest import ingest_source
from mimamori.ingest.validate import RULES

SOURCE = "kodomo_shien"
MONTH = "2033-09"  # clear of the months the other mapped suites load
RUN = "mapped-notices-1"


@pytest.fixture()
def town(tmp_path):
    (tmp_path / "town" / "sources").mkdir(parents=True)
    (tmp_path / "town" / "sources" / f"{SOURCE}.yaml").write_text(mapping_text(MONTH), encoding="utf-8")
    return tmp_path


def _notices(conn) -> list[tuple]:
    return conn.execute(
        "select file, rule, message_ja from ingest.notices where run_month = %s and source = %s and run_id = %s"
        " order by file",
        (MONTH, SOURCE, RUN),
    ).fetchall()


def test_a_file_the_mapping_does_not_take_is_a_notice_to_the_owner(
    town, loader_dsn, registry, wh_conn, settings, airflow_ready, mailcatcher
):
    from mimamori.alerts import send_alerts

    folder = deliver(town / "inbox" / MONTH / SOURCE, MONTH)  # its readme.txt is taken by no input
    copy = next(p for p in folder.iterdir() if p.name.startswith("ひとり親_"))
    (folder / "ひとり親のコピー.csv").write_bytes(copy.read_bytes())
    (folder / ".DS_Store").write_bytes(b"\0")  # the operating system's, not a delivery
    logged: list[str] = []
    result = ingest_source(
        SOURCE, MONTH, town / "inbox", loader_dsn, town / "quarantine", run_id=RUN, registry=registry,
        town=town / "town", log=logged.append,
    )  # fmt: skip
    assert result.ok
    assert [(n.file, n.rule) for n in result.notices] == [
        ("readme.txt", "unexpected_file_name"),
        ("ひとり親のコピー.csv", "unexpected_file_name"),
    ]
    assert sum("taken by no input of the mapping" in line for line in logged) == 2
    rows = _notices(wh_conn)
    assert [(f, r) for f, r, _ in rows] == [(n.file, n.rule) for n in result.notices]
    messages = {f: m for f, _, m in rows}
    assert RULES["unexpected_file_name"][0] in messages["readme.txt"]
    assert "ひとり親_*.csv" in messages["readme.txt"] and "YOTAI.csv" in messages["readme.txt"]
    assert "想定しているファイル名は「ひとり親_*.csv」" in messages["ひとり親のコピー.csv"]
    assert "読み込みました" in messages["ひとり親のコピー.csv"]  # the pattern's own file came and was read
    assert (folder / "readme.txt").exists(), "an unexpected file is not read, not moved"

    before = {p.name for p in mailcatcher.glob("*.eml")}
    sent = send_alerts(settings, MONTH, [], run_id=RUN, registry=registry, include_it_summary=False)
    assert [(s["source"], s["status"]) for s in sent] == [(SOURCE, "sent")]
    deadline = time.monotonic() + 15
    while not (new := [p for p in mailcatcher.glob("*.eml") if p.name not in before]) and time.monotonic() < deadline:
        time.sleep(0.2)
    (path,) = new
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    owners = [o.email for o in registry[SOURCE].data_owners]
    assert all(email in message["X-Envelope-To"] for email in owners)
    assert settings.it_email not in message["X-Envelope-To"]
    body = message.get_body(preferencelist=("html", "plain")).get_content()
    assert "readme.txt" in body and "ひとり親のコピー.csv" in body and "ひとり親_*.csv" in body


@pytest.fixture(scope="module", autouse=True)
def _cleanup(warehouse):
    yield
    from mimamori.stack import pg

    with pg.connect(warehouse, autocommit=True) as conn:
        for spec in ("yotaikyo", "child_rearing_allowance", "single_parent_medical", "childcare_enrolments",
                     "consultations"):  # fmt: skip
            table = f"kodomo_shien__{spec}"
            if conn.execute("select to_regclass(%s)", (f"raw.{table}",)).fetchone()[0]:
                conn.execute(f"delete from raw.{table} where run_month = %s", (MONTH,))
        for table in ("file_loads", "rejections", "notices", "run_steps", "deliveries"):
            conn.execute(f"delete from ingest.{table} where run_month = %s", (MONTH,))
