"""A mapped column whose values nearly all fail the contract's type is the mapping's mistake (a code map
left out: 学年 "3年", 認定年度 "令和7年度", 区分 A/B/C), not the data's: ``check`` reports it for IT
(``mapping_type``, exit 1) naming the mapping file and line and the delivered file and column, never a
value; the monthly run mails it to IT, not to the data owner. Scattered failures stay the owner's."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from gakko_town import REGISTER_HEADER, line_of, mapping, run_check
from kodomo_shien_town import deliver, mapping_text, write
from test_mapped_alerts import _mails

MONTH = "2034-02"
EX = "20340305"

GAKKO = mapping()


def _rows(grades: list[str]) -> list[str]:
    out = [REGISTER_HEADER]
    for i, g in enumerate(grades, 1):
        out.append(
            f"S{i:05d},見守　花子{i},ミマモリ ハナコ,2017-0{i % 9 + 1}-0{i % 9 + 1},{i % 2 + 1},見守町{i}番,東小学校,{g},0"
        )
    return out


def _check(tmp_path: Path, grades: list[str], mapping: str = GAKKO) -> tuple[subprocess.CompletedProcess, Path]:
    path = tmp_path / "town" / "sources" / "gakko.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(mapping, encoding="utf-8")
    folder = tmp_path / "inbox" / MONTH / "gakko"
    folder.mkdir(parents=True, exist_ok=True)
    write(folder, f"GAKUREI_{EX}.csv", _rows(grades), "utf-8")
    done = run_check(path, folder / f"GAKUREI_{EX}.csv")
    return done, path


def test_a_forgotten_code_map_on_an_int_column_is_the_mapping_s(tmp_path):
    done, path = _check(tmp_path, ["1年", "2年", "3年", "3年", "6年"])
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    it_part = out.split("■ 対応表がファイルに合わない箇所")[1]
    assert f"GAKUREI_{EX}.csv" in it_part and "列「学年」" in it_part and "[mapping_type]" in it_part
    assert f"gakko.yaml {line_of(path, '学年: 学年')}行目" in it_part and "5行のうち5行" in it_part
    assert "データの問題" not in out and "bad_value" not in out
    assert "3年" not in out and "6年" not in out  # never a value
    assert "結果: 不合格" in out


def test_scattered_failures_stay_the_data_owner_s(tmp_path):
    done, _ = _check(tmp_path, ["1", "2", "不明", "3", "6"])
    assert done.returncode == 3, done.stdout + done.stderr
    assert "[bad_value]" in done.stdout and "mapping_type" not in done.stdout
    assert "データの問題" in done.stdout


def test_two_bad_values_are_too_few_to_blame_the_mapping(tmp_path):
    done, _ = _check(tmp_path, ["1年", "2年"])
    assert done.returncode == 3 and "[bad_value]" in done.stdout and "mapping_type" not in done.stdout


def test_with_the_code_map_it_passes(tmp_path):
    mapping = GAKKO.replace("      学年: 学年", "      学年: {from: 学年, codes: {1年: 1, 2年: 2, 3年: 3, 6年: 6}}")
    done, _ = _check(tmp_path, ["1年", "2年", "3年", "3年", "6年"], mapping)
    assert done.returncode == 0, done.stdout + done.stderr


# -- the monthly run routes the same rejection to IT (real cluster, real mail catcher) -------------------

SOURCE = "kodomo_shien"
MAIL_MONTH = "2033-08"


@pytest.fixture()
def _clean_month(warehouse):
    yield
    from mimamori.stack import pg

    with pg.connect(warehouse, autocommit=True) as conn:
        for table in ("file_loads", "rejections", "run_steps", "deliveries", "alerts_sent"):
            if conn.execute("select to_regclass(%s)", (f"ingest.{table}",)).fetchone()[0]:
                conn.execute(f"delete from ingest.{table} where run_month = %s", (MAIL_MONTH,))


def test_the_monthly_run_mails_a_forgotten_code_map_to_it(
    tmp_path, loader_dsn, registry, settings, airflow_ready, mailcatcher, _clean_month
):
    from mimamori.alerts import send_alerts
    from mimamori.ingest import IngestRejected, ingest_source

    run_id = "mapping-type-1"
    folder = deliver(tmp_path / "inbox" / MAIL_MONTH / SOURCE, MAIL_MONTH)
    slash = "2033/09/05"
    write(folder, "YOTAI.csv", [f"00001000{20 + i},{c},20240401,,,,{slash}" for i, c in enumerate("ABCA")])
    town = tmp_path / "town"
    (town / "sources").mkdir(parents=True)
    text = mapping_text(MAIL_MONTH).replace("区分: {from: 2, codes: {A: 要保護, B: 要支援, C: 特定妊婦}}", "区分: 2")
    assert "区分: 2\n" in text
    (town / "sources" / f"{SOURCE}.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(IngestRejected) as caught:
        ingest_source(
            SOURCE, MAIL_MONTH, tmp_path / "inbox", loader_dsn, tmp_path / "quarantine", run_id=run_id,
            registry=registry, town=town, log=lambda _: None,
        )  # fmt: skip
    rules = {r.rule for r in caught.value.result.rejections}
    assert "mapping_type" in rules and "bad_value" not in rules
    before = {p.name for p in mailcatcher.glob("*.eml")}
    sent = send_alerts(settings, MAIL_MONTH, [], run_id=run_id, registry=registry, include_it_summary=False)
    assert f"__it__:{SOURCE}" in {s["source"] for s in sent}
    mails = _mails(mailcatcher, before, len(sent))
    it = next(m for m in mails if settings.it_email in m["X-Envelope-To"])
    body = it.get_body(preferencelist=("html", "plain")).get_content()
    assert "対応表" in it["Subject"] and "mapping_type" in body and "YOTAI.csv" in body and "2列目" in body
    assert f"{SOURCE}.yaml" in body and "4行のうち4行" in body
    for m in mails:
        if registry[SOURCE].data_owners[0].email in m["X-Envelope-To"]:
            owner = m.get_body(preferencelist=("html", "plain")).get_content()
            assert "mapping_type" not in owner and "bad_value" not in owner
    assert (folder / "YOTAI.csv").exists()  # the mapping is at fault: the file stays for the re-run
