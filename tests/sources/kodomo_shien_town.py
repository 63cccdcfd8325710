"""A small town's kodomo_shien delivered in its own layout, with its mapping (synthetic values only).

One export split into two contract files (ひとり親 → 児童扶養手当 / ひとり親医療), two exports merged
into one (認可保育.tsv + 地域型.csv → 保育所入所), a headerless file read by position (要対協), a file
still in the contract layout (児童相談記録), a title line, a total line, code maps, 和暦 and Excel
serial dates, and 抽出日 taken from the file name.
"""

from __future__ import annotations

import calendar
import datetime as dt
from pathlib import Path


def extraction(month: str) -> dt.date:
    y, m = map(int, month.split("-"))
    return dt.date(y, m, calendar.monthrange(y, m)[1]) + dt.timedelta(days=5)


def mapping_text(month: str) -> str:
    return MAPPING.replace("@EX_ISO@", extraction(month).isoformat())


MAPPING = """\
source: kodomo_shien
inputs:
  - name: hitorioya                 # one export, two contract files
    files: "ひとり親_*.csv"
    encoding: cp932
    skip:
      - where: {column: 制度, equals: "99"}   # rows of a scheme nobody needs
  - name: ninka                     # two exports, one contract file
    files: "認可保育.tsv"
    format: tsv
    encoding: utf-8
    skip: [{last: 1}]               # 合計 line
  - name: ninkagai
    files: "地域型.csv"
    encoding: utf-8
    header: 2                       # a title line first
  - name: yotaikyo                  # no header: columns by position
    files: "YOTAI.csv"
    encoding: cp932
    header: none
outputs:
  - file: 児童扶養手当.csv
    from: hitorioya
    where: {column: 制度, equals: "01"}
    columns:
      受給者宛名番号: 宛名番号
      世帯番号: 世帯番号
      認定日: {from: 開始日, date: wareki}
      喪失日: {from: 終了日, date: wareki}
      抽出日: {from_file_name: '_(\\d{8})\\.csv$', date: yyyymmdd}
  - file: ひとり親医療.csv
    from: hitorioya
    where: {column: 制度, in: ["02"]}
    columns:
      宛名番号: 宛名番号
      資格取得日: {from: 開始日, date: wareki}
      資格喪失日: {from: 終了日, date: wareki}
      抽出日: {from_file_name: '_(\\d{8})\\.csv$', date: yyyymmdd}
  - file: 保育所入所.csv
    from:
      - input: ninka
        columns:
          施設種別: {from: 種別, codes: {"1": 保育所, "2": 認定こども園, "3": 幼稚園}}
      - input: ninkagai
        columns:
          施設種別: {constant: 地域型保育}
    columns:
      宛名番号: 児童コード
      施設名: 施設
      入所日: {from: 入所, date: excel_serial}
      退所日: {from: 退所, date: excel_serial}
      抽出日: {constant: "@EX_ISO@"}
  - file: 要対協.csv
    from: yotaikyo
    columns:
      宛名番号: 1
      区分: {from: 2, codes: {A: 要保護, B: 要支援, C: 特定妊婦}}
      登録日: {from: 3, date: yyyymmdd}
      終結日: {from: 4, date: yyyymmdd}
      一時保護歴: {from: 5, codes: {"○": 有}, blank: 無}
      一時保護日: {from: 6, date: yyyymmdd}
      抽出日: {from: 7, date: ymd}
"""


def write(folder: Path, name: str, lines: list[str], encoding: str = "cp932") -> Path:
    path = folder / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def deliver(folder: Path, month: str) -> Path:
    """Write the department's files for ``month`` into ``folder`` (created)."""
    ex = extraction(month)
    ymd, slash = ex.strftime("%Y%m%d"), ex.strftime("%Y/%m/%d")
    folder.mkdir(parents=True, exist_ok=True)
    write(folder, f"ひとり親_{ymd}.csv", [
        "宛名番号,世帯番号,制度,開始日,終了日",
        "0000100001,0000700001,01,R6.4.1,",
        "0000100002,0000700002,02,令和5年4月1日,R8.3.31",
        "0000100003,0000700003,99,R6.4.1,",
        "0000100004,0000700004,01,H31.4.30,R2.1.1",
    ])  # fmt: skip
    write(folder, "認可保育.tsv", [
        "児童コード\t施設\t種別\t入所\t退所",
        "0000100010\tさくら保育所\t1\t45383\t",
        "0000100011\tほしのこ園\t2\t45017\t45747",
        "合計\t2",
    ], "utf-8-sig")  # fmt: skip
    write(folder, "地域型.csv", [
        "地域型保育の入所者一覧（令和8年10月）",
        "児童コード,施設,入所,退所",
        "0000100012,ぽっけ,45383,",
    ], "utf-8")  # fmt: skip
    write(folder, "YOTAI.csv", [
        f"0000100020,A,20240401,,○,20240402,{slash}",
        f"0000100021,C,20230115,20240101,,,{slash}",
    ])  # fmt: skip
    write(folder, "児童相談記録.csv", [
        "相談番号,宛名番号,世帯番号,相談日,相談分類,抽出日",
        f"KS000001,0000100001,0000700001,R6.8.5,その他,{slash}",
    ])  # fmt: skip
    (folder / "readme.txt").write_text("not an export")
    return folder
