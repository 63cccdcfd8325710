"""``bin/mimamori sources check``, the dry run IT uses before a month is loaded: run as IT runs
it (a subprocess), on real files, against the committed registry. Every mistake names the mapping
file and line, or the delivered file, row and column; no value of the data is printed; nothing is
written to ``raw``."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from kodomo_shien_town import deliver, extraction, mapping_text, write

REPO = Path(__file__).resolve().parents[2]
MONTH = "2034-01"
SOURCE = "kodomo_shien"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(REPO / "bin" / "mimamori"), "sources", *map(str, args)],
        cwd=REPO,
        env={**os.environ, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture()
def town(tmp_path):
    mapping = tmp_path / "town" / "sources" / f"{SOURCE}.yaml"
    mapping.parent.mkdir(parents=True)
    mapping.write_text(mapping_text(MONTH), encoding="utf-8")
    folder = deliver(tmp_path / "inbox" / MONTH / SOURCE, MONTH)
    return mapping, folder


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in t)


def test_help_is_japanese_first_and_names_the_exit_codes():
    top = _run("--help")
    assert top.returncode == 0
    assert "対応表" in top.stdout and "docs/onboarding.md" in top.stdout
    check = _run("check", "--help")
    assert check.returncode == 0
    assert "ドライラン" in check.stdout and "MAPPING" in check.stdout and "FILE" in check.stdout
    assert "0 合格" in check.stdout and "1 対応表の誤り" in check.stdout and "3 データの問題のみ" in check.stdout
    assert _run("check").returncode == 2  # no mapping given: a usage error


def test_the_mapping_alone_and_applied_to_the_delivered_files(town):
    mapping, folder = town
    alone = _run("check", mapping)
    assert alone.returncode == 0, alone.stdout + alone.stderr
    assert "対応表の書き方: 問題なし" in alone.stdout
    applied = _run("check", mapping, folder)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    out = applied.stdout
    assert f"対象月: {MONTH}" in out  # inferred from the 抽出日 in the files
    assert "保育所入所.csv: 3行（元のファイル: 認可保育.tsv、地域型.csv）" in out
    assert "児童扶養手当.csv: 2行" in out and "ひとり親医療.csv: 1行" in out
    assert "readme.txt: どの入力（inputs）にも合わないため読みません" in out
    assert "結果: 合格" in out
    english = _run("check", "--english", "--month", MONTH, mapping, folder)
    assert english.returncode == 0 and "result: PASSED" in english.stdout


def test_an_unknown_contract_column_names_the_mapping_line(town):
    mapping, folder = town
    mapping.write_text(mapping_text(MONTH).replace("      施設名: 施設", "      施設の名前: 施設"), encoding="utf-8")
    done = _run("check", mapping, folder)
    assert done.returncode == 1
    line = _line_of(mapping, "施設の名前")
    assert f"{mapping}:{line}: " in done.stdout and "施設の名前" in done.stdout
    assert "結果: 不合格" in done.stdout


def test_a_code_with_no_mapping_names_file_row_and_column_never_the_value(town, wh_conn):
    mapping, folder = town
    slash = extraction(MONTH).strftime("%Y/%m/%d")
    write(folder, "YOTAI.csv", [
        f"0000100020,A,20240401,,○,20240402,{slash}",
        f"0000100021,QX9,20230115,20240101,,,{slash}",
    ])  # fmt: skip
    done = _run("check", "--month", MONTH, mapping, folder)
    assert done.returncode == 1
    out = done.stdout
    codes_line = _line_of(mapping, "C: 特定妊婦")
    assert "YOTAI.csv・2行目・列「2列目」" in out and "[unmapped_code]" in out
    assert f"対応表{codes_line}行目のコード表にない値が1種類" in out
    assert "QX9" not in out and "0000100021" not in out and "0000100020" not in out
    assert "情報システム担当が対応表を直してください" in out
    # a dry run writes nothing: no row of this month in raw, whatever the mapping found
    if wh_conn.execute("select to_regclass('raw.kodomo_shien__yotaikyo')").fetchone()[0]:
        n = wh_conn.execute("select count(*) from raw.kodomo_shien__yotaikyo where run_month = %s", (MONTH,))
        assert n.fetchone() == (0,)


def test_a_date_not_in_the_declared_style(town):
    mapping, folder = town
    ymd = extraction(MONTH).strftime("%Y%m%d")
    write(folder, f"ひとり親_{ymd}.csv", [
        "宛名番号,世帯番号,制度,開始日,終了日",
        "0000100001,0000700001,01,2024-04-01,",  # 西暦: the mapping says 和暦
        "0000100002,0000700002,02,令和元年5月1日,R8.3.31",
    ])  # fmt: skip
    done = _run("check", "--month", MONTH, mapping, folder)
    assert done.returncode == 1
    line = _line_of(mapping, "認定日: {from: 開始日, date: wareki}")
    assert f"ひとり親_{ymd}.csv・2行目・列「開始日」" in done.stdout
    assert f"対応表{line}行目の書き方「和暦」ではありません" in done.stdout
    assert "[date_style]" in done.stdout and "2024-04-01" not in done.stdout


def test_data_problems_only_are_for_the_owner(town):
    mapping, folder = town
    write(folder, "地域型.csv", ["一覧", "児童コード,施設,入所,退所", "0000100012,,45383,"], "utf-8")
    done = _run("check", "--month", MONTH, mapping, folder)
    assert done.returncode == 3
    assert "地域型.csv・3行目・列「施設」" in done.stdout and "[required_blank]" in done.stdout
    assert "データ所有者" in done.stdout and "対応表がファイルに合わない" not in done.stdout


def test_usage_errors(town, tmp_path):
    mapping, folder = town
    assert _run("check", tmp_path / "nothing.yaml").returncode == 2
    assert _run("check", mapping, tmp_path / "no-such-file.csv").returncode == 2
    bad_month = _run("check", "--month", "2034/01", mapping, folder)
    assert bad_month.returncode == 2 and "YYYY-MM" in bad_month.stderr


def test_the_worked_fixed_width_mapping_overlapping_or_past_the_line_names_its_lines(tmp_path):
    """The committed 住民記録 mapping (towns/mimamori-vendor/sources/jumin.yaml) passes alone; a field
    moved onto its neighbour and one made longer than the record are each IT's mistake, named by
    the mapping file and line, and the dry run reads no file."""
    committed = REPO / "towns" / "mimamori-vendor" / "sources" / "jumin.yaml"
    alone = _run("check", committed)
    assert alone.returncode == 0 and "対応表の書き方: 問題なし" in alone.stdout, alone.stdout + alone.stderr
    mapping = tmp_path / "jumin.yaml"
    mapping.write_text(
        committed.read_text(encoding="utf-8")
        .replace("{name: カナ氏名, start: 61, length: 40}", "{name: カナ氏名, start: 59, length: 40}")
        .replace("{name: 支援措置, start: 236, length: 1}", "{name: 支援措置, start: 236, length: 2}"),
        encoding="utf-8",
    )
    done = _run("check", mapping)
    assert done.returncode == 1
    out = done.stdout
    kana, name, dv = (_line_of(mapping, f"name: {n},") for n in ("カナ氏名", "漢字氏名", "支援措置"))
    assert f"{mapping}:{kana}: " in out and f"{name}行目の「漢字氏名」" in out and "重なっています" in out
    assert f"{mapping}:{dv}: " in out and "1行の長さ（236バイト）を超えています" in out
    assert "結果: 不合格" in out
