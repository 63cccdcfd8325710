"""``sources profile`` counts values and never shows them: distinctive values planted in the files
— a name, its reading, an address, birth dates in several styles, ids, free text, surnames in a
column no contract column claims — appear nowhere in what it prints or drafts. Code columns show
their codes. The same files check what is detected: encodings, delimiters, header or none, a title
and a trailer line, fixed width with HDR/TRL records, and the date styles (和暦 with 元年 and the
R6/H31 abbreviations, 元号コード, YYYYMMDD, YYYY/MM/DD, Excel serial numbers)."""

from __future__ import annotations

import csv
import io
import random
import re

import pytest
from test_sources_cli import _run as run_sources

#: Values a person would recognise: none may leave the profiler.
PLANTED = {
    "atena": "8765432109",
    "name": "鳳凰院　凶真",
    "kana": "ホウオウイン　キョウマ",
    "address": "見守町架空台九丁目９９番",
    "birth": "平成3年3月3日",
    "birth_short": "H3.3.3",
    "free_text": "極秘の相談内容あり",
    "surname": "鳳凰",
}
SURNAMES = ("山田", "佐藤", PLANTED["surname"])
GIVEN = (("太郎", "タロウ"), ("花子", "ハナコ"), ("一郎", "イチロウ"), ("さくら", "サクラ"), ("翔", "ショウ"))
FAMILY = (("見守", "ミモリ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"))


def _rows(n: int, rnd: random.Random) -> list[list[str]]:
    rows = []
    for i in range(n):
        (family, family_kana), (given, given_kana) = FAMILY[i % 4], GIVEN[i % 5]
        rows.append(
            [
                f"{1000000000 + i * 7:010d}",
                f"{family}　{given}",
                f"{family_kana}　{given_kana}",
                f"令和{'元' if i % 5 == 0 else rnd.randint(2, 6)}年{rnd.randint(1, 12)}月{rnd.randint(1, 28)}日",
                rnd.choice(("1", "2")),
                f"見守町中央{i}丁目",
                "" if i % 3 else f"相談メモ{i}",
                SURNAMES[i % 3],
            ]
        )
    return rows


def _plant(rows: list[list[str]]) -> None:
    p = PLANTED
    rows[3] = [p["atena"], p["name"], p["kana"], p["birth"], "1", p["address"], p["free_text"], p["surname"]]
    rows[9][1:4] = [p["name"], p["kana"], p["birth"]]  # twice: a repeated value is still never shown


def _write_csv(path, rows, encoding: str, delimiter: str = ",", title: str = "", trailer: str = "") -> None:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes((title + buf.getvalue() + trailer).encode(encoding))


def _dates_file(path, n: int, rnd: random.Random) -> None:
    """One column per date style (birth dates of no one; the birth column holds the planted one)."""
    header = ["宛名番号", "生年月日", "認定日", "登録日", "喪失日", "入所日", "相談日", "抽出日"]
    rows = [header]
    for i in range(n):
        y, m, d = rnd.randint(2, 6), rnd.randint(1, 12), rnd.randint(1, 28)
        rows.append(
            [
                f"{2000000000 + i:010d}",
                PLANTED["birth_short"] if i == 4 else f"H{rnd.randint(1, 31)}.{m}.{d}",
                f"R{'元' if i % 4 == 0 else y}.{m}.{d}",
                f"{2018 + y}{m:02d}{d:02d}",
                f"{2018 + y}/{m}/{d}" if i % 2 else "",
                str(43000 + rnd.randint(0, 2000)),
                f"5{y:02d}{m:02d}{d:02d}",
                "令和8年11月4日",
            ]
        )
    _write_csv(path, rows, "utf-8-sig", "\t", trailer="合計\t" + str(n) + "\r\n")


def _fixed_file(path, rows: list[list[str]]) -> None:
    """UTF-8 fixed width in characters: id 10, name 12, kana 14, birth 7 (元号コード), sex 1."""
    out = ["HDR20261104".ljust(44)]
    for r in rows:
        day = re.match(r"(令和|平成)(元|\d+)年(\d+)月(\d+)日", r[3])
        era = "5" if day[1] == "令和" else "4"
        year = 1 if day[2] == "元" else int(day[2])
        code = f"{era}{year:02d}{int(day[3]):02d}{int(day[4]):02d}"
        out.append(r[0] + r[1].ljust(12) + r[2].ljust(14) + code + r[4])
    out.append(f"TRL{len(rows):08d}".ljust(44))
    path.write_bytes(("\r\n".join(out) + "\r\n").encode("utf-8"))


def _xlsx_file(path, rows: list[list[str]]) -> None:
    """A sheet as offices save it: a title in A1, the header on row 2, real date cells."""
    import datetime as dt

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["住民一覧（令和8年10月末）"])
    sheet.append(["宛名コード", "氏名", "性別", "転入年月日"])
    for i, r in enumerate(rows):
        sheet.append([r[0], r[1], int(r[4]), dt.datetime(2020, 1, 1) + dt.timedelta(days=i * 11)])
    book.save(path)


@pytest.fixture()
def planted(tmp_path):
    rnd = random.Random(7)
    rows = _rows(60, rnd)
    _plant(rows)
    folder = tmp_path / "inbox" / "2026-10" / "jumin"
    folder.mkdir(parents=True)
    header = ["個人番号", "氏名", "フリガナ", "生年月日", "性別", "住所", "備考", "姓"]
    _write_csv(folder / "住民一覧_20261104.csv", [header, *rows], "cp932", title="住民一覧（令和8年11月4日現在）\r\n")
    _write_csv(folder / "NOHEAD_20261104.csv", rows, "utf-8")
    _fixed_file(folder / "JUKI_20261104.DAT", rows)
    _dates_file(folder / "日付_20261104.tsv", 40, rnd)
    _xlsx_file(folder / "住民_20261104.xlsx", rows)
    return folder


def test_no_planted_value_is_printed_or_drafted(planted, tmp_path):
    draft_path = tmp_path / "draft" / "jumin.yaml"
    done = run_sources("profile", "--out", draft_path, planted)
    assert done.returncode == 0, done.stderr
    printed = run_sources("profile", planted)  # the draft on stdout, the report on stderr
    assert printed.returncode == 0, printed.stderr
    texts = {
        "report": done.stdout,
        "progress": done.stderr,
        "draft": draft_path.read_text(encoding="utf-8"),
        "stdout": printed.stdout,
        "stderr": printed.stderr,
    }
    for what, text in texts.items():
        for kind, value in PLANTED.items():
            for form in {value, value.replace("　", ""), value.replace("　", " ")}:
                leaked = form in text  # not in the assert: a failure must not print the text
                assert not leaked, f"the planted {kind} appears in the {what}"
    assert "値: 1 / 2" in done.stdout  # a code column shows its codes


def test_what_the_profiler_detects(planted, tmp_path):
    draft_path = tmp_path / "jumin.yaml"
    done = run_sources("profile", "--out", draft_path, planted)
    assert done.returncode == 0, done.stderr
    draft = draft_path.read_text(encoding="utf-8")
    report = done.stdout
    blocks = {m[1]: m[2] for m in re.finditer(r"■ (\S+)\n(.*?)(?=\n■ |\n\n)", report, re.S)}
    titled = blocks["住民一覧_20261104.csv"]
    assert "Shift_JIS（CP932）" in titled and "見出し: 2行目" in titled and "表題など: 1行" in titled
    assert "日付（和暦）" in titled and "値: 1 / 2" in titled
    headless = blocks["NOHEAD_20261104.csv"]
    assert "UTF-8（BOMなし）" in headless and "見出し: なし" in headless
    fixed = blocks["JUKI_20261104.DAT"]
    assert "固定長: 1レコード 44文字" in fixed and "先頭 HDR、末尾 TRL" in fixed
    for field in ("1〜10: 番号", "11〜22: 文字", "23〜36: カナ", "37〜43: 日付（元号コード", "44〜44: コード"):
        assert field in fixed, field
    sheet = blocks["住民_20261104.xlsx"]
    assert "Excel（xlsx）" in sheet and "見出し: 2行目" in sheet and "表題など: 1行" in sheet
    assert "4. 転入年月日: 日付" in sheet and "値: 1 / 2" in sheet
    dates = blocks["日付_20261104.tsv"]
    assert "UTF-8（BOM付き）" in dates and "タブ区切り" in dates and "末尾の合計行など: 1行" in dates
    for style in ("和暦", "西暦8桁", "Excelシリアル値", "元号コード"):
        assert f"日付（{style}" in dates, style
    assert "喪失日: 日付（西暦（区切りあり））" in dates
    assert "format: fixed" in draft and "units: chars" in draft and "line_matches: '^HDR'" in draft
    assert "header: none" in draft and "header: 2" in draft and "- {last: 1}" in draft
    for style in ("wareki", "wareki_code"):
        assert f"date: {style}}}" in draft, style
