"""The same town's exports as its departments' own systems write them (--vendor-layout).

Invented layouts, one per department system, each with its own habits: other header names or
none, codes instead of labels, 和暦 in several spellings (元年, R6/H31), YYYYMMDD and Excel serial
dates, a fixed-width file with full-width characters, a merged export (児童扶養手当 + ひとり親医療)
and a split one (乳幼児健診 per checkup), title and trailer lines, CP932 and UTF-8 with BOM, tabs.
No mapping is written: mapping them is the onboarding exercise (docs/onboarding.md).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

ERAS = [  # (first day, kanji, letter)
    (date(2019, 5, 1), "令和", "R"),
    (date(1989, 1, 8), "平成", "H"),
    (date(1926, 12, 25), "昭和", "S"),
    (date(1912, 7, 30), "大正", "T"),
]
FW = str.maketrans("0123456789", "０１２３４５６７８９")


def era(d: date) -> tuple[str, str, int]:
    for start, kanji, letter in ERAS:
        if d >= start:
            return kanji, letter, d.year - start.year + 1
    raise ValueError("date before 大正")


def wareki_kanji(d) -> str:
    """令和6年4月1日 / 令和元年5月1日"""
    if d is None:
        return ""
    k, _, y = era(d)
    return f"{k}{'元' if y == 1 else y}年{d.month}月{d.day}日"


def wareki_dot(d) -> str:
    """R6.4.1 / H31.4.30"""
    if d is None:
        return ""
    _, letter, y = era(d)
    return f"{letter}{y}.{d.month}.{d.day}"


def wareki_slash(d) -> str:
    """R06/04/01"""
    if d is None:
        return ""
    _, letter, y = era(d)
    return f"{letter}{y:02d}/{d.month:02d}/{d.day:02d}"


def wareki_code(d) -> str:
    """era digit + YYMMDD as the resident system stores it: 5060401 (1 明治 … 4 平成 5 令和)."""
    if d is None:
        return ""
    k, _, y = era(d)
    digit = {"大正": 2, "昭和": 3, "平成": 4, "令和": 5}[k]
    return f"{digit}{y:02d}{d.month:02d}{d.day:02d}"


def ymd(d) -> str:
    return d.strftime("%Y%m%d") if d else ""


def serial(d):
    return (d - date(1899, 12, 30)).days if d else ""


def flag(v, yes="1", no="0"):
    return "" if v is None else (yes if v else no)


def write_text(path: Path, text: str, encoding: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))


def csv_text(header, rows, delimiter=",", title: list[str] | None = None, trailer: list[str] | None = None) -> str:
    buf = io.StringIO()
    for line in title or []:
        buf.write(line + "\r\n")
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    if header:
        w.writerow(header)
    w.writerows(rows)
    for line in trailer or []:
        buf.write(line + "\r\n")
    return buf.getvalue()


def fixed(value: str, width: int, fill: str = " ") -> str:
    """Pad or cut to ``width`` bytes in CP932 (full-width characters count two)."""
    out, used = "", 0
    for ch in value:
        n = len(ch.encode("cp932"))
        if used + n > width:
            break
        out += ch
        used += n
    pad = width - used
    if fill == "　":
        return out + "　" * (pad // 2) + " " * (pad % 2)
    return out + fill * pad


RELATION_CODES = {
    "世帯主": "01",
    "妻": "02",
    "夫": "02",
    "子": "03",
    "父": "04",
    "母": "04",
    "孫": "05",
    "子の妻": "06",
}
CARE_CODES = {
    "要支援1": "12",
    "要支援2": "13",
    "要介護1": "21",
    "要介護2": "22",
    "要介護3": "23",
    "要介護4": "24",
    "要介護5": "25",
}
TECHO_CODES = {"身体": "1", "療育": "2", "精神": "3"}
FACILITY_CODES = {"保育所": "10", "幼稚園": "20", "認定こども園": "30", "地域型保育": "40"}
YT_CODES = {"要保護": "1", "要支援": "2", "特定妊婦": "3"}
CONSULT_CODES = {"生活困窮": "01", "障がい者": "02", "その他": "99"}
F_KIND_CODES = {"児童虐待相談": "A1", "児童相談": "A2", "養護相談": "A3", "その他": "Z9"}


def write_month(tables: dict, out: Path, m: date):
    """Write one month of the vendor layouts under out/<source>/."""
    ym = f"{m.year:04d}{m.month:02d}"
    t = {f: rows for (_s, f), rows in tables.items()}
    _jumin(t["住民.csv"], out / "jumin", ym)
    _kodomo_shien(t, out / "kodomo_shien", ym)
    _kodomo_katei(t, out / "kodomo_katei", ym)
    _fukushi(t, out / "fukushi", ym)
    _gakko(t, out / "gakko", ym, m)


def _jumin(rows, out: Path, ym: str):
    """住民記録システム: fixed width, CP932, header/data/trailer records (1 = header, 2 = data, 9 = trailer)."""
    width = 199  # every record the same length, as the vendor's layout says
    lines = [fixed(f"1JUMIN{ym}", width)]
    for r in rows:
        lines.append(
            "2"
            + fixed(r["atena_no"], 15)
            + fixed(r["setai_no"], 10)
            + fixed(r["name"], 30, "　")
            + fixed(r["name_kana"], 30, "　")
            + wareki_code(r["birth_date"])
            + r["sex"]
            + RELATION_CODES.get(r["relationship"], "99")
            + fixed(r["address"].translate(FW), 80, "　")
            + fixed(wareki_code(r["moved_in_on"]), 7)
            + wareki_code(r["resident_since"])
            + ("1" if r["has_dv_protection"] else "0")
            + ymd(r["extracted_on"])
        )
    lines.append(fixed(f"9{len(rows):08d}", width))
    assert all(len(line.encode("cp932")) == width for line in lines)
    write_text(out / f"JUKI{ym}.DAT", "\r\n".join(lines) + "\r\n", "cp932")


def _kodomo_shien(t, out: Path, ym: str):
    """子育て支援システム."""
    yt = t["要対協.csv"]
    write_text(
        out / f"要対協台帳_{ym}.csv",
        csv_text(
            ["児童宛名番号", "登録区分", "登録年月日", "終結年月日", "一時保護", "一時保護年月日", "出力日"],
            [
                [
                    r["atena_no"],
                    YT_CODES[r["category"]],
                    wareki_dot(r["registered_on"]),
                    wareki_dot(r["closed_on"]),
                    flag(r["had_temporary_custody"], "あり", "なし"),
                    wareki_dot(r["temporary_custody_on"]),
                    wareki_dot(r["extracted_on"]),
                ]
                for r in yt
            ],
        ),
        "cp932",
    )
    # one export for both single-parent benefits; 制度 1 = 児童扶養手当 (the recipient), 2 = ひとり親医療
    rows = [
        [
            "1",
            r["recipient_atena_no"],
            r["setai_no"] or "",
            wareki_kanji(r["certified_on"]),
            wareki_kanji(r["ended_on"]),
            wareki_kanji(r["extracted_on"]),
        ]
        for r in t["児童扶養手当.csv"]
    ] + [
        [
            "2",
            r["atena_no"],
            "",
            wareki_kanji(r["valid_from"]),
            wareki_kanji(r["valid_to"]),
            wareki_kanji(r["extracted_on"]),
        ]
        for r in t["ひとり親医療.csv"]
    ]
    write_text(
        out / f"ひとり親支援受給者一覧_{ym}.csv",
        csv_text(["制度", "宛名番号", "世帯番号", "開始日", "終了日", "作成日"], rows, trailer=[f"合計,{len(rows)}件"]),
        "utf-8-sig",
    )
    write_text(
        out / f"入所児童一覧_{ym}.tsv",
        csv_text(
            ["宛名No", "施設", "施設区分", "入所年月日", "退所年月日", "基準日"],
            [
                [
                    r["atena_no"],
                    r["facility"],
                    FACILITY_CODES[r["facility_type"]],
                    ymd(r["enrolled_on"]),
                    ymd(r["left_on"]),
                    ymd(r["extracted_on"]),
                ]
                for r in t["保育所入所.csv"]
            ],
            delimiter="\t",
        ),
        "cp932",
    )
    kc = t["児童相談記録.csv"]
    write_text(
        out / f"相談受付簿_{ym}.csv",
        csv_text(
            ["受付番号", "対象者宛名番号", "世帯番号", "受付日", "主訴区分", "抽出年月日"],
            [
                [
                    r["consultation_no"],
                    r["atena_no"] or "",
                    r["setai_no"] or "",
                    wareki_slash(r["consulted_on"]),
                    CONSULT_CODES[r["category"]],
                    wareki_slash(r["extracted_on"]),
                ]
                for r in kc
            ],
            title=["児童相談受付簿（こども支援班）"],
            trailer=[f"件数：{len(kc)}"],
        ),
        "cp932",
    )


def _kodomo_katei(t, out: Path, ym: str):
    """母子保健システム: one file per checkup, Excel-serial dates in the vaccination file (no header)."""
    for name, fname in (("4か月", "4M"), ("1歳6か月", "1Y6M"), ("3歳", "3Y")):
        rows = [r for r in t["乳幼児健診.csv"] if r["checkup"] == name]
        write_text(
            out / f"健診_{fname}_{ym}.csv",
            csv_text(
                ["宛名番号", "対象年月", "受診年月日", "問診要観察", "う歯数", "母喫煙", "要フォロー", "作成日"],
                [
                    [
                        r["atena_no"],
                        f"{r['due_month'].year}{r['due_month'].month:02d}",
                        ymd(r["attended_on"]),
                        flag(r["has_questionnaire_concern"], "○", ""),
                        "" if r["caries_count"] is None else r["caries_count"],
                        flag(r["mother_smokes"], "1", "0"),
                        flag(r["has_follow_up"], "1", "0"),
                        ymd(r["extracted_on"]),
                    ]
                    for r in rows
                ],
            ),
            "cp932",
        )
    write_text(
        out / f"妊娠届EPDS_{ym}.csv",
        csv_text(
            ["母_宛名番号", "児_宛名番号", "届出時週数", "EPDS合計", "全戸訪問", "出力日"],
            [
                [
                    r["mother_atena_no"],
                    r["child_atena_no"],
                    str(r["notification_week"]).translate(FW),
                    "" if r["epds_score"] is None else r["epds_score"],
                    "1" if r["home_visit"] == "済" else "0",
                    wareki_kanji(r["extracted_on"]),
                ]
                for r in t["妊産婦.csv"]
            ],
        ),
        "cp932",
    )
    write_text(
        out / f"YOBO{ym}.csv",
        csv_text(
            None,
            [
                [r["atena_no"], r["vaccine"], serial(r["due_on"]), serial(r["given_on"]), serial(r["extracted_on"])]
                for r in t["予防接種.csv"]
            ],
        ),
        "cp932",
    )


def _fukushi(t, out: Path, ym: str):
    """福祉総合システム: half-width kana headers, codes, H31/R6 dates."""
    write_text(
        out / f"ﾃﾁｮｳ_{ym}.csv",
        csv_text(
            ["ｱﾃﾅNO", "ﾃﾁｮｳｼｭﾍﾞﾂ", "ﾄｳｷｭｳ", "ﾊｯﾀﾂｼｮｳｶﾞｲ", "ｺｳﾌﾋﾞ", "ﾁｭｳｼｭﾂﾋﾞ"],
            [
                [
                    r["atena_no"],
                    TECHO_CODES[r["certificate_type"]],
                    r["grade"],
                    flag(r["has_developmental_disability"]),
                    wareki_slash(r["issued_on"]),
                    ymd(r["extracted_on"]),
                ]
                for r in t["障害者手帳.csv"]
            ],
        ),
        "cp932",
    )
    write_text(
        out / f"ｼﾞｭｷｭｳｼｬｼｮｳ_{ym}.csv",
        csv_text(
            ["ｼﾞｭｷｭｳｼｬｼｮｳNO", "ｱﾃﾅNO", "ｺｳﾌﾋﾞ", "ﾕｳｺｳｷｹﾞﾝ", "ﾁｭｳｼｭﾂﾋﾞ"],
            [
                [
                    r["certificate_no"],
                    r["atena_no"],
                    wareki_slash(r["issued_on"]),
                    wareki_slash(r["valid_to"]),
                    ymd(r["extracted_on"]),
                ]
                for r in t["障害児受給者証.csv"]
            ],
        ),
        "cp932",
    )
    write_text(
        out / f"ｶｲｺﾞﾆﾝﾃｲ_{ym}.csv",
        csv_text(
            ["ｱﾃﾅNO", "ｶｲｺﾞﾄﾞ", "ﾆﾝﾃｲﾋﾞ", "ﾕｳｺｳｼｭｳﾘｮｳﾋﾞ", "ﾁｭｳｼｭﾂﾋﾞ"],
            [
                [
                    r["atena_no"],
                    CARE_CODES[r["care_level"]],
                    ymd(r["certified_on"]),
                    ymd(r["valid_to"]),
                    ymd(r["extracted_on"]),
                ]
                for r in t["要介護認定.csv"]
            ],
        ),
        "cp932",
    )
    sh = t["生活保護.csv"]
    write_text(
        out / f"ｾｲﾎ_{ym}.csv",
        csv_text(
            ["ｹｰｽNO", "ｾｲｲﾝｱﾃﾅNO", "ｶｲｼﾋﾞ", "ﾊｲｼﾋﾞ", "ﾁｭｳｼｭﾂﾋﾞ"],
            [
                [
                    r["case_no"],
                    r["atena_no"],
                    wareki_dot(r["started_on"]),
                    wareki_dot(r["ended_on"]),
                    ymd(r["extracted_on"]),
                ]
                for r in sh
            ],
            trailer=[f"ｹﾞﾝｻﾞｲｾｲｲﾝｽｳ,{len(sh)}"],
        ),
        "cp932",
    )
    write_text(
        out / f"ｼｮｳｶﾞｲｼｬｲﾘｮｳ_{ym}.csv",
        csv_text(
            ["ｱﾃﾅNO", "ｼｶｸｼｭﾄｸﾋﾞ", "ｼｶｸｿｳｼﾂﾋﾞ", "ﾁｭｳｼｭﾂﾋﾞ"],
            [
                [r["atena_no"], wareki_dot(r["valid_from"]), wareki_dot(r["valid_to"]), ymd(r["extracted_on"])]
                for r in t["障がい者医療.csv"]
            ],
        ),
        "utf-8-sig",
    )
    fc = t["相談記録.csv"]
    write_text(
        out / f"ｿｳﾀﾞﾝ_{ym}.txt",
        csv_text(
            ["ｿｳﾀﾞﾝNO", "ｱﾃﾅNO", "ｾﾀｲNO", "ｿｳﾀﾞﾝﾋﾞ", "ﾌﾞﾝﾔ", "ｼｭﾍﾞﾂ", "ﾁｭｳｼｭﾂﾋﾞ"],
            [
                [
                    r["consultation_no"],
                    r["atena_no"] or "",
                    r["setai_no"] or "",
                    ymd(r["consulted_on"]),
                    r["field"],
                    F_KIND_CODES[r["kind"]],
                    ymd(r["extracted_on"]),
                ]
                for r in fc
            ],
            delimiter="\t",
        ),
        "cp932",
    )


def _gakko(t, out: Path, ym: str, m: date):
    """校務支援システム: 姓/名 apart, 男/女, 小3/中1, 和暦 birth dates, a titled attendance workbook."""
    reg = t["学齢簿.csv"]
    level = {}

    def split(name):
        s, _, g = name.partition("　")
        return s, g

    rows = []
    for r in reg:
        sei, mei = split(r["name"])
        ksei, kmei = split(r["name_kana"]) if "　" in r["name_kana"] else r["name_kana"].partition(" ")[::2]
        lv = "中" if "中学校" in r["school"] else "小"
        level[r["student_no"]] = lv
        rows.append(
            [
                r["student_no"],
                r["atena_no"] or "",
                sei,
                mei,
                ksei,
                kmei,
                wareki_kanji(r["birth_date"]),
                "男" if r["sex"] == "1" else "女",
                r["address"],
                r["school"],
                f"{lv}{r['grade']}",
                "特支" if r["in_special_needs_class"] else "",
                wareki_kanji(r["extracted_on"]),
            ]
        )
    write_text(
        out / f"学齢簿_{ym}.csv",
        csv_text(
            [
                "学籍番号",
                "宛名番号",
                "氏",
                "名",
                "氏カナ",
                "名カナ",
                "生年月日",
                "性別",
                "住所",
                "在籍校",
                "学年",
                "学級区分",
                "出力日",
            ],
            rows,
        ),
        "cp932",
    )
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "集計"
    ws.append([f"出欠状況集計（{m.year}年{m.month}月末現在）"])
    ws.append(
        ["学校名", "学年", "組", "学籍番号", "氏名", "生年月日", "欠席（累計）", "前年度欠席", "遅刻・早退", "集計日"]
    )
    for r in t["出欠.xlsx"]:
        ws.append(
            [
                r["school"],
                r["grade"],
                r["class"],
                r["student_no"] or "",
                r["name"],
                serial(r["birth_date"]),
                r["absence_days_ytd"],
                r["absence_days_last_year"],
                r["late_or_early_ytd"],
                serial(r["extracted_on"]),
            ]
        )
    out.mkdir(parents=True, exist_ok=True)
    wb.save(out / f"出欠集計_{ym}.xlsx")
    write_text(
        out / f"定期健康診断_{ym}.tsv",
        csv_text(
            ["氏名", "生年月日", "学校", "実施日", "要精検", "DMF歯数", "抽出日"],
            [
                [
                    r["name"],
                    wareki_slash(r["birth_date"]),
                    r["school"],
                    wareki_slash(r["examined_on"]),
                    flag(r["needs_referral"], "要", "否"),
                    r["caries_count"],
                    wareki_slash(r["extracted_on"]),
                ]
                for r in t["学校健診.csv"]
            ],
            delimiter="\t",
        ),
        "cp932",
    )
    write_text(
        out / f"就学援助認定者_{ym}.csv",
        csv_text(
            ["学籍番号", "氏名", "生年月日", "認定年度", "出力日"],
            [
                [
                    r["student_no"],
                    r["name"],
                    ymd(r["birth_date"]),
                    f"R{r['fiscal_year'] - 2018}",
                    ymd(r["extracted_on"]),
                ]
                for r in t["就学援助.csv"]
            ],
        ),
        "cp932",
    )
    lunch = t["給食費.csv"]
    write_text(
        out / f"給食費未納者_{ym}.csv",
        csv_text(
            ["学籍番号", "氏名", "生年月日", "学校", "未納月数", "出力日"],
            [
                [
                    r["student_no"],
                    r["name"],
                    wareki_dot(r["birth_date"]),
                    r["school"],
                    r["months_in_arrears"],
                    ymd(r["extracted_on"]),
                ]
                for r in lunch
            ],
            trailer=[f",,,,{sum(r['months_in_arrears'] for r in lunch)},"],
        ),
        "cp932",
    )


README = """しおかぜ町　各課システムの月次出力ファイル（こども見守りデータ連携用）

月ごとのフォルダ（YYYY-MM）の下に、提供元ごとのフォルダがあります。

jumin/         住民記録システム（住民課）
  JUKI<年月>.DAT               住民基本台帳　全住民（固定長）

kodomo_shien/  子育て支援システム（こども課こども支援班）
  要対協台帳_<年月>.csv         要保護児童対策地域協議会　登録台帳
  ひとり親支援受給者一覧_<年月>.csv  児童扶養手当・ひとり親家庭等医療費助成　受給者
  入所児童一覧_<年月>.tsv       保育所・幼稚園・認定こども園・地域型保育　入所児童
  相談受付簿_<年月>.csv         児童相談　受付簿

kodomo_katei/  母子保健システム（こども課こども家庭班）
  健診_4M_<年月>.csv            4か月児健康診査
  健診_1Y6M_<年月>.csv          1歳6か月児健康診査
  健診_3Y_<年月>.csv            3歳児健康診査
  妊娠届EPDS_<年月>.csv         妊娠届出・産後うつ質問票・乳児家庭全戸訪問
  YOBO<年月>.csv                定期予防接種

fukushi/       福祉総合システム（福祉介護課福祉班）
  ﾃﾁｮｳ_<年月>.csv               身体障害者手帳・療育手帳・精神障害者保健福祉手帳
  ｼﾞｭｷｭｳｼｬｼｮｳ_<年月>.csv        障害児通所支援　受給者証
  ｶｲｺﾞﾆﾝﾃｲ_<年月>.csv           要介護・要支援認定
  ｾｲﾎ_<年月>.csv                生活保護　世帯員
  ｼｮｳｶﾞｲｼｬｲﾘｮｳ_<年月>.csv       重度障がい者医療費助成
  ｿｳﾀﾞﾝ_<年月>.txt              福祉相談記録

gakko/         校務支援システム・学籍システム（教育委員会学校教育課）
  学齢簿_<年月>.csv             学齢簿（小1〜中3）
  出欠集計_<年月>.xlsx          出欠状況（各校集計）
  定期健康診断_<年月>.tsv       児童生徒定期健康診断
  就学援助認定者_<年月>.csv     就学援助　認定者
  給食費未納者_<年月>.csv       学校給食費　未納者
"""


def write_readme(vendor_dir: Path):
    vendor_dir.mkdir(parents=True, exist_ok=True)
    (vendor_dir / "README.txt").write_bytes(README.replace("\n", "\r\n").encode("cp932"))
