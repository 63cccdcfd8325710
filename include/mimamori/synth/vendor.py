"""The synthetic town's こども支援班 and 住民記録 in vendor systems' own layouts (issue 21 steps 2–3).

``python -m mimamori.synth --out DIR --vendor-layout`` rewrites each month's
``inbox/<month>/kodomo_shien/`` from the contract's five files into what a vendor system might
export, and ``inbox/<month>/jumin/住民.csv`` into an older 住民記録 system's fixed-width file;
``towns/mimamori-vendor/sources/<source>.yaml`` maps them back (docs/onboarding.md):

==========================  ==================================================================
``ひとり親_<抽出日>.csv``      児童扶養手当 + ひとり親医療 in ONE export (制度 01/02), CP932, dates 和暦
                            ``R6.4.1`` (元年 as ``R元.5.1``), 抽出日 as a 作成日 column (令和8年11月4日)
``認可保育_<抽出日>.tsv``      保育所入所 of 保育所 / 認定こども園 / 幼稚園: TSV, UTF-8 with BOM, 種別 codes
                            1/2/3, Excel serial dates, a 合計 trailer line
``地域型_<抽出日>.csv``        保育所入所 of 地域型保育: UTF-8 without BOM, a title line above the header
``YOTAI_<抽出日>.csv``        要対協 without a header (columns by position), 区分 A/B/C, 一時保護歴 ○ or
                            blank, YYYYMMDD dates; 抽出日 only in the file name
``相談記録.csv``              児童相談記録 with other headers, 分類 codes 1/2/9, 元号コード dates (5060401)
``JUKI_<抽出日>.DAT``         住民 (jumin) as a fixed-width (固定長) file: CP932, positions in bytes as the
                            vendor counts them (a 全角 character is two), records of
                            :data:`JUKI_RECORD_BYTES` bytes padded with half-width spaces, a
                            ``HDR`` record before the data and a ``TRL`` record (count) after it,
                            元号コード and YYYYMMDD dates, 支援措置 as 1/0; 抽出日 in the file name
==========================  ==================================================================

Every value is the contract file's own, re-spelt: loaded through the mapping it gives the same
contract rows (the equivalence test, tests/sources/test_vendor_town.py). No value is printed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from mimamori.ingest.parse import ERAS, is_blank, parse_date

SOURCE = "kodomo_shien"
#: The contract files this layout replaces (all of the source's).
CONTRACT_FILES = ("児童扶養手当.csv", "ひとり親医療.csv", "保育所入所.csv", "要対協.csv", "児童相談記録.csv")
#: The 住民記録 system's fixed-width export replaces the contract's 住民.csv.
JUMIN = "jumin"
JUMIN_FILES = ("住民.csv",)
#: The fixed-width record: (field, contract header, bytes). The committed mapping
#: (towns/mimamori-vendor/sources/jumin.yaml) states the same positions, as a vendor's layout
#: document (レイアウト表) would; tests/sources/test_vendor_town.py holds the two together.
JUKI_LAYOUT = (
    ("宛名番号", 10),
    ("世帯番号", 10),
    ("漢字氏名", 40),
    ("カナ氏名", 40),
    ("生年月日", 7),
    ("性別", 1),
    ("続柄", 12),
    ("住所", 100),
    ("転入年月日", 8),
    ("住定年月日", 7),
    ("支援措置", 1),
)
JUKI_RECORD_BYTES = sum(n for _, n in JUKI_LAYOUT)

_NINKA_CODES = {"保育所": "1", "認定こども園": "2", "幼稚園": "3"}
_YOTAI_CODES = {"要保護": "A", "要支援": "B", "特定妊婦": "C"}
_CONSULT_CODES = {"生活困窮": "1", "障がい者": "2", "その他": "9"}
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def _era(day: dt.date):
    for era in reversed(ERAS):
        if day >= era.start:
            return era, day.year - era.start.year + 1
    raise ValueError("date before 明治")


def wareki_short(day: dt.date | None) -> str:
    """R6.4.1, R元.5.1, H31.4.30."""
    if day is None:
        return ""
    era, year = _era(day)
    return f"{era.letter}{'元' if year == 1 else year}.{day.month}.{day.day}"


def wareki_long(day: dt.date | None) -> str:
    """令和8年11月4日, 令和元年5月1日."""
    if day is None:
        return ""
    era, year = _era(day)
    return f"{era.name}{'元' if year == 1 else year}年{day.month}月{day.day}日"


def wareki_code(day: dt.date | None) -> str:
    """元号コード + YYMMDD: 5060401 (1 明治 … 5 令和)."""
    if day is None:
        return ""
    era, year = _era(day)
    return f"{ERAS.index(era) + 1}{year:02d}{day.month:02d}{day.day:02d}"


def excel_serial(day: dt.date | None) -> str:
    return "" if day is None else str((day - _EXCEL_EPOCH).days)


def yyyymmdd(day: dt.date | None) -> str:
    return "" if day is None else day.strftime("%Y%m%d")


def _date(value: str) -> dt.date | None:
    return None if is_blank(value) else parse_date(value)


def _read(folder: Path, name: str) -> tuple[list[str], list[dict[str, str]]]:
    text = (folder / name).read_bytes().decode("cp932")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = rows[0]
    return header, [dict(zip(header, r, strict=True)) for r in rows[1:]]


def _one_extraction(rows: list[dict[str, str]], what: str) -> dt.date:
    days = {_date(r["抽出日"]) for r in rows}
    if len(days) != 1:
        raise ValueError(f"{what}: the vendor layout takes 抽出日 from the file name, but the file has {len(days)}")
    return days.pop()


def _csv(rows: list[list[str]], delimiter: str = ",") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


def _fixed(value: str, nbytes: int, what: str) -> bytes:
    """One field of a fixed-width record: CP932, left-aligned, padded with half-width spaces."""
    data = value.encode("cp932")
    if len(data) > nbytes:  # a vendor would cut it; the worked example must keep every value
        raise ValueError(f"住民: {what} needs {len(data)} bytes, the fixed-width layout has {nbytes}")
    return data + b" " * (nbytes - len(data))


def write_vendor_jumin(folder: Path | str) -> list[str]:
    """Replace ``住民.csv`` in ``folder`` (inbox/<month>/jumin) by the 住民記録 system's fixed-width file."""
    folder = Path(folder)
    _, residents = _read(folder, "住民.csv")
    day = _one_extraction(residents, "住民.csv")
    records = [_fixed(f"HDR{yyyymmdd(day)}", JUKI_RECORD_BYTES, "HDR")]
    for r in residents:
        values = {
            "宛名番号": r["宛名番号"],
            "世帯番号": r["世帯番号"],
            "漢字氏名": r["氏名"],
            "カナ氏名": r["カナ氏名"],
            "生年月日": wareki_code(_date(r["生年月日"])),
            "性別": r["性別"],
            "続柄": r["続柄"],
            "住所": r["住所"],
            "転入年月日": yyyymmdd(_date(r["転入日"])),
            "住定年月日": wareki_code(_date(r["住民となった日"])),
            "支援措置": {"有": "1", "無": "0"}[r["支援措置"]],
        }
        records.append(b"".join(_fixed(values[name], n, name) for name, n in JUKI_LAYOUT))
    records.append(_fixed(f"TRL{len(residents):010d}", JUKI_RECORD_BYTES, "TRL"))
    name = f"JUKI_{yyyymmdd(day)}.DAT"
    (folder / "住民.csv").unlink()
    (folder / name).write_bytes(b"".join(line + b"\r\n" for line in records))
    return [name]


def write_vendor_layout(folder: Path | str) -> list[str]:
    """Replace the contract files in ``folder`` (inbox/<month>/kodomo_shien) by the vendor's; returns their names."""
    folder = Path(folder)
    written: dict[str, bytes] = {}

    _, allowance = _read(folder, "児童扶養手当.csv")
    _, medical = _read(folder, "ひとり親医療.csv")
    day = max((_date(r["抽出日"]) for r in (*allowance, *medical)), default=None)  # the export's date
    hitori = [["宛名番号", "世帯番号", "制度", "開始日", "終了日", "作成日"]]
    for r in allowance:
        hitori.append(
            [
                r["受給者宛名番号"],
                r["世帯番号"],
                "01",
                wareki_short(_date(r["認定日"])),
                wareki_short(_date(r["喪失日"])),
                wareki_long(_date(r["抽出日"])),
            ]
        )
    for r in medical:
        hitori.append(
            [
                r["宛名番号"],
                "",
                "02",
                wareki_short(_date(r["資格取得日"])),
                wareki_short(_date(r["資格喪失日"])),
                wareki_long(_date(r["抽出日"])),
            ]
        )
    written[f"ひとり親_{yyyymmdd(day)}.csv"] = _csv(hitori).encode("cp932")

    _, care = _read(folder, "保育所入所.csv")
    day = _one_extraction(care, "保育所入所.csv")
    ninka = [["児童コード", "施設", "種別", "入所", "退所"]]
    chiiki = [["児童コード", "施設", "入所", "退所"]]
    for r in care:
        dates = [excel_serial(_date(r["入所日"])), excel_serial(_date(r["退所日"]))]
        if r["施設種別"] == "地域型保育":
            chiiki.append([r["宛名番号"], r["施設名"], *dates])
        else:
            ninka.append([r["宛名番号"], r["施設名"], _NINKA_CODES[r["施設種別"]], *dates])
    ninka.append(["合計", str(len(ninka) - 1)])
    written[f"認可保育_{yyyymmdd(day)}.tsv"] = _csv(ninka, "\t").encode("utf-8-sig")
    title = f"地域型保育 入所者一覧（{wareki_long(day)}現在）\r\n"
    written[f"地域型_{yyyymmdd(day)}.csv"] = (title + _csv(chiiki)).encode("utf-8")

    _, yotai = _read(folder, "要対協.csv")
    day = _one_extraction(yotai, "要対協.csv")
    rows = [
        [
            r["宛名番号"],
            _YOTAI_CODES[r["区分"]],
            yyyymmdd(_date(r["登録日"])),
            yyyymmdd(_date(r["終結日"])),
            "○" if r["一時保護歴"] == "有" else "",
            yyyymmdd(_date(r["一時保護日"])),
        ]
        for r in yotai
    ]
    written[f"YOTAI_{yyyymmdd(day)}.csv"] = _csv(rows).encode("cp932")

    _, consult = _read(folder, "児童相談記録.csv")
    rows = [["相談No", "児童宛名", "世帯", "相談年月日", "分類", "抽出年月日"]]
    for r in consult:
        rows.append(
            [
                r["相談番号"],
                r["宛名番号"],
                r["世帯番号"],
                wareki_code(_date(r["相談日"])),
                _CONSULT_CODES[r["相談分類"]],
                wareki_code(_date(r["抽出日"])),
            ]
        )
    written["相談記録.csv"] = _csv(rows).encode("cp932")

    for name in CONTRACT_FILES:
        (folder / name).unlink()
    for name, data in written.items():
        (folder / name).write_bytes(data)
    return sorted(written)


#: source → (the contract files its vendor layout replaces, the writer).
VENDOR_SOURCES = {SOURCE: (CONTRACT_FILES, write_vendor_layout), JUMIN: (JUMIN_FILES, write_vendor_jumin)}


def write_vendor_month(month_folder: Path | str) -> dict[str, list[str]]:
    """Every vendor-layout source of ``inbox/<month>``: {source: the files written}. A source whose
    folder is absent (a ``missing_source`` fault) is left out."""
    month_folder = Path(month_folder)
    written = {}
    for source, (_, writer) in VENDOR_SOURCES.items():
        folder = month_folder / source
        if folder.is_dir():
            written[source] = writer(folder)
    return written
