"""A third vendor family for the same town (--vendor-layout c).

Like layout b (vendor_b.py) this is another town's worth of the departments' systems for the same
records, mapped blind (issue #21). Its habits are ones neither a nor b has:

- jumin: a cloud resident system's TSV in UTF-8 without BOM, its columns in its own order with
  vendor columns the contract does not have (更新日時, 住民種別), dates as date-time strings
  (2015-04-01 00:00:00), 性別 as "code:label" cells (1:男), 支援措置 as ○/blank, an END line after
  the data, and the 抽出日 only in the file name, in 和暦 (JUMIN_R081101.tsv).
- kodomo_shien: a child-support package whose exports have a three-line title block with the
  header at row 4 (要対協), 西暦 kanji dates (2026年10月1日), "code label" cells with a space
  (1 要保護), a free-text 相談概要 quoted with commas and line breaks inside, a two-row header
  (親見出し over 子見出し) for the two allowance ledgers, and facilities as "P01:name" cells whose code
  table also gives the facility type, with 全角 和暦 dates (令和６年４月１日) and a 以下余白 line.
- kodomo_katei: the checkups as one export per 健診 (the kind only in the file name), flags as
  ○/× (blank: not examined) and 要/不要, 対象月 as 2026年10月; the maternity ledger as an xlsx with a title block
  (header at row 4), dates as real date cells and 全戸訪問 as ○/blank; the vaccinations as a
  two-row-header CSV in UTF-8 with BOM, dates as 2026/10/01 0:00.
- fukushi: a welfare system's English export tool: English field names, dates as dd/mm/yyyy,
  flags Y/N, codes as "code:label", care levels as 全角 labels (要介護３), free text with line
  breaks in the consultation log, a vendor column (Office) in two of the files.
- gakko: 出欠 as one xlsx per public school from each school's 校務支援 system (title block, header
  at row 4, date cells), the school only in the file name; the 学齢簿 with the school as
  "101:name", 学年 as "3年", 性別 as 男/女, 特別支援学級 as ○/blank and the school first; 学校健診 with a
  two-row header and 精密検査 as 要/blank; 就学援助 with 認定年度 as 和暦年度 (令和7年度) in the first
  column; 給食費 with a 以下余白 line.

Everything the departments hand over (vendor/docs: ファイル一覧, レイアウト定義書, コード表 per
department, CP932) is written by vendor_b.write_docs from the same FileDoc/Field specifications
that write the files. No mapping is written and nothing about this layout is documented outside
this docstring.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import vendor_b as vb
from vendor import FW, era
from vendor_b import CODES, FACILITY, SCHOOL, Delivery, Field, FileDoc, _h, table, write_delimited

DEPARTMENTS = {  # folder → (the department as the vendor documents name it, its system)
    "jumin": ("住民課", "住民情報クラウド"),
    "kodomo_shien": ("こども支援班", "子育て支援パッケージ"),
    "kodomo_katei": ("こども家庭班", "母子保健システム"),
    "fukushi": ("福祉班", "福祉総合システム（データ出力ツール）"),
    "gakko": ("学校教育課", "学齢簿システム／各校の校務支援システム"),
}
CL = "コード＋名称"  # 型 of a cell holding a code and its label ("1:男", "1 要保護")

C_CODES = CODES | {
    "性別": table(("1", "男"), ("2", "女")),
    "支援措置": table(("○", "DV等支援措置の対象者"), ("（空欄）", "対象外")),
    "住民種別": table(("10", "日本人住民"), ("20", "外国人住民")),
    "要対協区分": table(("1", "要保護"), ("2", "要支援"), ("3", "特定妊婦")),
    "有無（○）": table(("○", "あり"), ("（空欄）", "なし")),
    "相談区分": table(("1", "生活困窮"), ("2", "障がい者"), ("9", "その他")),
    "担当": table(("01", "家庭相談員"), ("02", "保健師"), ("03", "社会福祉士")),
    "施設": table(*(row for row in CODES["施設コード"])),
    "問診判定（○×）": table(("○", "要注意"), ("×", "所見なし"), ("（空欄）", "未受診")),
    "要否": table(("要", "あり"), ("不要", "なし")),
    "喫煙": table(("有", "喫煙あり"), ("無", "喫煙なし"), ("（空欄）", "未受診")),
    "YN": table(("Y", "Yes"), ("N", "No")),
    "CertType": table(("1", "身体障害者手帳"), ("2", "療育手帳"), ("3", "精神障害者保健福祉手帳")),
    "Office": table(("H", "本庁 福祉課"), ("S", "支所")),
    "Field": table(*((c, f) for f, c in vb.FIELDS.items())),
    "Kind": table(("A", "児童虐待相談"), ("B", "児童相談"), ("C", "養護相談"), ("Z", "その他")),
    "学校": table(*(row for row in CODES["学校コード"])),
}
YT_C = {"要保護": "1", "要支援": "2", "特定妊婦": "3"}
CONSULT_C = {"生活困窮": "1", "障がい者": "2", "その他": "9"}
CERT_C = {"身体": "1", "療育": "2", "精神": "3"}
KIND_C = {"児童虐待相談": "A", "児童相談": "B", "養護相談": "C", "その他": "Z"}
CHECKUPS = {"4か月": "4M", "1歳6か月": "18M", "3歳": "3Y"}
TOPICS = [
    "家計の相談、就労について",
    "子の養育について\n関係機関と連絡",
    "学校から連絡あり、様子を確認",
    "来所\n継続して支援",
]


def _cl(tab: str, code: str, sep: str = ":") -> str:
    """A code and its label from the vendor's own code table, as one cell."""
    return f"{code}{sep}{dict((r[0], r[1]) for r in C_CODES[tab])[code]}"


def _d(fn):
    return lambda d: "" if d is None else fn(d)


stamp = _d(lambda d: f"{d.isoformat()} 00:00:00")  # 2015-04-01 00:00:00
kanji_ad = _d(lambda d: f"{d.year}年{d.month}月{d.day}日")  # 2026年10月1日
wareki_fw = _d(lambda d: f"{era(d)[0]}{era(d)[2]}年{d.month}月{d.day}日".translate(FW))  # 令和６年４月１日
slash_time = _d(lambda d: f"{d.year}/{d.month:02d}/{d.day:02d} 0:00")  # 2026/10/01 0:00
dmy = _d(lambda d: d.strftime("%d/%m/%Y"))  # 01/10/2026
month_kanji = _d(lambda d: f"{d.year}年{d.month}月")


def ring(v) -> str:
    return "○" if v else ""


def mark(v) -> str:
    return "" if v is None else ("○" if v else "×")


def yn(v) -> str:
    return "" if v is None else ("Y" if v else "N")


def fiscal_wareki(y: int) -> str:
    k, _, n = era(date(y, 4, 1))
    return f"{k}{'元' if n == 1 else n}年度"


def _wareki_compact(d: date) -> str:
    _, letter, y = era(d)
    return f"{letter}{y:02d}{d.month:02d}{d.day:02d}"


def _header_line(cells: list[str], delimiter: str = ",") -> str:
    return delimiter.join(cells)


def _xlsx(path: Path, doc: FileDoc, rows: list[dict], title: list[list]):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = doc.sheet.split("（")[0]
    for line in title:
        ws.append(line)
    ws.append([f.name for f in doc.fields])
    for r in rows:
        ws.append([f.get(r) for f in doc.fields])
    for row in ws.iter_rows(min_row=doc.data_row):
        for c in row:
            if isinstance(c.value, date):
                c.number_format = "yyyy/m/d"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


# ---- the departments ------------------------------------------------------------------------------------
def write_month(tables: dict, out: Path, m: date, delivery: Delivery):
    """One month of layout c under out/<source>/; the documents go to ``delivery``."""
    ym = f"{m.year:04d}{m.month:02d}"
    t = {f: rows for (_s, f), rows in tables.items()}
    _jumin(t, out / "jumin", delivery)
    _kodomo_shien(t, out / "kodomo_shien", ym, delivery)
    _kodomo_katei(t, out / "kodomo_katei", ym, delivery)
    _fukushi(t, out / "fukushi", ym, delivery)
    _gakko(t, out / "gakko", ym, m, delivery)


def _jumin(t, out: Path, delivery: Delivery):
    rows = t["住民.csv"]
    doc = FileDoc(
        "JUMIN_<和暦年月日>.tsv",
        "住民情報 全件（抽出日時点）",
        "TSV",
        "UTF-8（BOMなし）",
        [
            Field("世帯番号", "英数字", lambda r: r["setai_no"], ""),
            Field("個人番号（宛名）", "数字", lambda r: r["atena_no"], "宛名番号 10桁"),
            Field("住民種別", "コード", lambda r: "20" if _h("kind", r["atena_no"]) < 0.02 else "10", "", "住民種別"),
            Field("カナ氏名", "文字", lambda r: r["name_kana"], "全角カタカナ"),
            Field("漢字氏名", "文字", lambda r: r["name"], "氏と名の間に全角スペース"),
            Field("性別", CL, lambda r: _cl("性別", r["sex"]), "「コード:名称」で出力（1:男）", "性別"),
            Field("生年月日", "日付", lambda r: stamp(r["birth_date"]), "日時（YYYY-MM-DD 00:00:00）"),
            Field("続柄", "文字", lambda r: r["relationship"], "世帯主からみた続柄（名称）"),
            Field("住所", "文字", lambda r: r["address"], "方書を含む"),
            Field("住民日", "日付", lambda r: stamp(r["resident_since"]), "住民となった日。日時"),
            Field("転入日", "日付", lambda r: stamp(r["moved_in_on"]), "日時。転入者のみ"),
            Field("支援措置", "コード", lambda r: ring(r["has_dv_protection"]), "", "支援措置"),
            Field(
                "更新日時",
                "日付",
                lambda r: stamp(r["resident_since"]).replace(
                    "00:00:00", f"09:{int(_h('u', r['atena_no']) * 60):02d}:00"
                ),
                "最終更新の日時",
            ),
        ],
        trailer_rows=1,
        notes=["最終行は「END」", "抽出日はファイル名（和暦：元号の英字＋年月日6桁）"],
    )
    ex = rows[0]["extracted_on"] if rows else None
    write_delimited(out / f"JUMIN_{_wareki_compact(ex)}.tsv", doc, rows, trailer=["END"])
    delivery.add("jumin", doc, C_CODES)


def _kodomo_shien(t, out: Path, ym: str, delivery: Delivery):
    yt = t["要対協.csv"]
    ex = yt[0]["extracted_on"] if yt else None
    doc = FileDoc(
        "要対協台帳_<年月>.csv",
        "要保護児童対策地域協議会 ケース台帳",
        "CSV",
        "Shift_JIS（CP932）",
        [
            Field("ケースNo", "英数字", lambda r: f"Y{int(r['atena_no'][-6:]):06d}", "協議会のケース番号"),
            Field(
                "区分",
                CL,
                lambda r: _cl("要対協区分", YT_C[r["category"]], " "),
                "「コード 名称」（1 要保護）",
                "要対協区分",
            ),
            Field("対象者宛名番号", "数字", lambda r: r["atena_no"], "特定妊婦は妊婦本人"),
            Field("登録日", "日付", lambda r: kanji_ad(r["registered_on"]), "西暦（2026年4月1日）"),
            Field("一時保護", "コード", lambda r: ring(r["had_temporary_custody"]), "一時保護歴", "有無（○）"),
            Field("一時保護日", "日付", lambda r: kanji_ad(r["temporary_custody_on"]), "西暦。不明は空欄"),
            Field("終結日", "日付", lambda r: kanji_ad(r["closed_on"]), "西暦。継続中は空欄"),
            Field("出力日", "日付", lambda r: kanji_ad(r["extracted_on"]), "西暦"),
        ],
        header_row=4,
        data_row=5,
        notes=["1〜3行目は表題・出力日・空行"],
    )
    write_delimited(
        out / f"要対協台帳_{ym}.csv",
        doc,
        yt,
        title=["要保護児童対策地域協議会　ケース台帳", f"出力日：{kanji_ad(ex)}", ""],
    )
    delivery.add("kodomo_shien", doc, C_CODES)

    doc = FileDoc(
        "相談受付簿_<年月>.csv",
        "家庭児童相談 受付簿（過去5年分）",
        "CSV",
        "Shift_JIS（CP932）",
        [
            Field("受付番号", "英数字", lambda r: r["consultation_no"], ""),
            Field("受付日", "日付", lambda r: kanji_ad(r["consulted_on"]), "西暦（2026年4月1日）"),
            Field("相談区分", "コード", lambda r: CONSULT_C[r["category"]], "", "相談区分"),
            Field("対象者宛名番号", "数字", lambda r: r["atena_no"] or "", "世帯単位の相談は空欄"),
            Field("対象世帯番号", "英数字", lambda r: r["setai_no"] or "", "空欄のことがある"),
            Field("担当", "コード", lambda r: f"0{1 + int(_h('tan', r['consultation_no']) * 3)}", "", "担当"),
            Field(
                "相談概要",
                "文字",
                lambda r: TOPICS[int(_h("topic", r["consultation_no"]) * len(TOPICS))],
                "自由記述。ダブルクォートで囲み、改行・カンマを含むことがある",
            ),
            Field("出力日", "日付", lambda r: kanji_ad(r["extracted_on"]), "西暦"),
        ],
    )
    write_delimited(out / f"相談受付簿_{ym}.csv", doc, t["児童相談記録.csv"])
    delivery.add("kodomo_shien", doc, C_CODES)

    for key, name, title, who in (
        ("児童扶養手当.csv", "児扶手_資格_<年月>.csv", "児童扶養手当 資格者一覧", "受給者"),
        ("ひとり親医療.csv", "ひとり親医療_資格_<年月>.csv", "ひとり親家庭等医療費助成 資格者一覧", "資格者"),
    ):
        start, end = ("certified_on", "ended_on") if key == "児童扶養手当.csv" else ("valid_from", "valid_to")
        who_id = "recipient_atena_no" if key == "児童扶養手当.csv" else "atena_no"
        fields = [
            Field("宛名番号", "数字", lambda r, w=who_id: r[w], f"{who}本人"),
            Field("世帯番号", "英数字", lambda r: r.get("setai_no") or "", "空欄のことがある"),
            Field("取得日", "日付", lambda r, s=start: kanji_ad(r[s]), "西暦（2026年4月1日）"),
            Field("喪失日", "日付", lambda r, e=end: kanji_ad(r[e]), "西暦。資格中は空欄"),
            Field("基準日", "日付", lambda r: kanji_ad(r["extracted_on"]), "抽出日。西暦"),
        ]
        doc = FileDoc(
            name,
            title,
            "CSV",
            "Shift_JIS（CP932）",
            fields,
            header_row=2,
            data_row=3,
            notes=["見出しは2行：1行目が親見出し（" + who + "・資格・抽出）、2行目が項目名"],
        )
        write_delimited(
            out / name.replace("<年月>", ym), doc, t[key], title=[_header_line([who, "", "資格", "", "抽出"])]
        )
        delivery.add("kodomo_shien", doc, C_CODES)

    doc = FileDoc(
        "入所児童_<年月>.csv",
        "教育・保育施設 入所児童一覧",
        "CSV",
        "Shift_JIS（CP932）",
        [
            Field(
                "施設",
                CL,
                lambda r: _cl("施設", FACILITY[r["facility"]]),
                "「施設コード:施設名」。施設の種類はコード表の備考",
                "施設",
            ),
            Field("児童宛名番号", "数字", lambda r: r["atena_no"], ""),
            Field("入所日", "日付", lambda r: wareki_fw(r["enrolled_on"]), "和暦、全角数字（令和６年４月１日）"),
            Field("退所日", "日付", lambda r: wareki_fw(r["left_on"]), "和暦、全角数字。在所中は空欄"),
            Field("抽出日", "日付", lambda r: wareki_fw(r["extracted_on"]), "和暦、全角数字"),
        ],
        trailer_rows=1,
        notes=["最終行は「以下余白」"],
    )
    write_delimited(out / f"入所児童_{ym}.csv", doc, t["保育所入所.csv"], trailer=["以下余白"])
    delivery.add("kodomo_shien", doc, C_CODES)


def _kodomo_katei(t, out: Path, ym: str, delivery: Delivery):
    fields = [
        Field("宛名番号", "数字", lambda r: r["atena_no"], ""),
        Field("対象年月", "年月", lambda r: month_kanji(r["due_month"]), "健診の対象月（2026年4月）"),
        Field("受診日", "日付", lambda r: slash_time(r["attended_on"]), "日時（2026/04/01 0:00）。未受診は空欄"),
        Field("問診要注意", "コード", lambda r: mark(r["has_questionnaire_concern"]), "未受診は空欄", "問診判定（○×）"),
        Field("う歯", "数値", lambda r: "" if r["caries_count"] is None else r["caries_count"], "本数。未受診は空欄"),
        Field(
            "母喫煙",
            "コード",
            lambda r: "" if r["mother_smokes"] is None else ("有" if r["mother_smokes"] else "無"),
            "",
            "喫煙",
        ),
        Field("事後フォロー", "コード", lambda r: "要" if r["has_follow_up"] else "不要", "", "要否"),
        Field("抽出日", "日付", lambda r: slash_time(r["extracted_on"]), "日時"),
    ]
    checkups = t["乳幼児健診.csv"]
    for kind, tag in CHECKUPS.items():
        doc = FileDoc(
            f"健診_{tag}_<年月>.csv",
            f"{kind}児健康診査 対象者一覧（対象月を過ぎた対象者）",
            "CSV",
            "Shift_JIS（CP932）",
            fields,
            notes=[f"{kind}児健診のみ（健診の種類はファイル名）"],
        )
        write_delimited(out / f"健診_{tag}_{ym}.csv", doc, [r for r in checkups if r["checkup"] == kind])
        delivery.add("kodomo_katei", doc, C_CODES)

    mat = t["妊産婦.csv"]
    doc = FileDoc(
        "妊産婦台帳_<年月>.xlsx",
        "妊産婦・新生児 台帳",
        "Excel",
        "（xlsx）",
        [
            Field("母_宛名番号", "数字", lambda r: r["mother_atena_no"], ""),
            Field("子_宛名番号", "数字", lambda r: r["child_atena_no"], ""),
            Field("地区担当", "コード", lambda r: f"0{1 + int(_h('area', r['child_atena_no']) * 3)}", "", "担当"),
            Field("届出週数", "数値", lambda r: r["notification_week"], "妊娠届出時の週数"),
            Field("EPDS", "数値", lambda r: r["epds_score"], "未実施は空欄"),
            Field("全戸訪問", "コード", lambda r: ring(r["home_visit"] == "済"), "乳児家庭全戸訪問", "有無（○）"),
            Field("抽出日", "日付", lambda r: r["extracted_on"], "日付セル"),
        ],
        header_row=4,
        data_row=5,
        sheet="台帳（1枚目のシート）",
        notes=["1〜3行目は表題・課名・空行"],
    )
    _xlsx(out / f"妊産婦台帳_{ym}.xlsx", doc, mat, [["妊産婦・新生児台帳"], ["こども家庭班"], []])
    delivery.add("kodomo_katei", doc, C_CODES)

    doc = FileDoc(
        "予防接種_<年月>.csv",
        "定期予防接種 対象者・接種状況",
        "CSV",
        "UTF-8（BOM付き）",
        [
            Field("宛名番号", "数字", lambda r: r["atena_no"], ""),
            Field("ワクチン", "文字", lambda r: r["vaccine"], "ワクチン名と期・回（MR 1期）"),
            Field("期限", "日付", lambda r: slash_time(r["due_on"]), "日時（2026/04/01 0:00）"),
            Field("実施日", "日付", lambda r: slash_time(r["given_on"]), "日時。未接種は空欄"),
            Field("抽出日", "日付", lambda r: slash_time(r["extracted_on"]), "日時"),
        ],
        header_row=2,
        data_row=3,
        notes=["見出しは2行：1行目が親見出し（対象者・接種・抽出）、2行目が項目名"],
    )
    write_delimited(
        out / f"予防接種_{ym}.csv", doc, t["予防接種.csv"], title=[_header_line(["対象者", "接種", "", "", "抽出"])]
    )
    delivery.add("kodomo_katei", doc, C_CODES)


def _fukushi(t, out: Path, ym: str, delivery: Delivery):
    office = Field("Office", "コード", lambda r: "S" if _h("office", *r.values()) < 0.3 else "H", "", "Office")
    specs = [
        (
            "障害者手帳.csv",
            "TECHO_<年月>.csv",
            "障害者手帳 所持者一覧",
            [
                Field("PersonID", "数字", lambda r: r["atena_no"], "宛名番号"),
                Field(
                    "CertType",
                    CL,
                    lambda r: _cl("CertType", CERT_C[r["certificate_type"]]),
                    "「code:名称」",
                    "CertType",
                ),
                Field("Grade", "文字", lambda r: r["grade"], "等級（1級〜7級、A、B）"),
                Field(
                    "DevDisability", "コード", lambda r: yn(r["has_developmental_disability"]), "発達障害の記載", "YN"
                ),
                Field("IssueDate", "日付", lambda r: dmy(r["issued_on"]), "dd/mm/yyyy"),
                office,
                Field("ExtractDate", "日付", lambda r: dmy(r["extracted_on"]), "dd/mm/yyyy"),
            ],
        ),
        (
            "障害児受給者証.csv",
            "JUKYUSHASHO_<年月>.csv",
            "障害児通所受給者証 交付一覧",
            [
                Field("CertificateNo", "英数字", lambda r: r["certificate_no"], "受給者証番号"),
                Field("PersonID", "数字", lambda r: r["atena_no"], "宛名番号"),
                Field("IssueDate", "日付", lambda r: dmy(r["issued_on"]), "dd/mm/yyyy"),
                Field("ExpiryDate", "日付", lambda r: dmy(r["valid_to"]), "dd/mm/yyyy"),
                Field("ExtractDate", "日付", lambda r: dmy(r["extracted_on"]), "dd/mm/yyyy"),
            ],
        ),
        (
            "要介護認定.csv",
            "KAIGO_NINTEI_<年月>.csv",
            "要介護認定 認定者一覧",
            [
                Field("PersonID", "数字", lambda r: r["atena_no"], "宛名番号"),
                Field("CareLevel", "文字", lambda r: r["care_level"].translate(FW), "名称、数字は全角（要介護３）"),
                Field("CertifiedDate", "日付", lambda r: dmy(r["certified_on"]), "dd/mm/yyyy"),
                Field("ExpiryDate", "日付", lambda r: dmy(r["valid_to"]), "dd/mm/yyyy"),
                Field("ExtractDate", "日付", lambda r: dmy(r["extracted_on"]), "dd/mm/yyyy"),
            ],
        ),
        (
            "生活保護.csv",
            "SEIHO_MEMBERS_<年月>.csv",
            "生活保護 被保護世帯員一覧",
            [
                Field("CaseNo", "英数字", lambda r: r["case_no"], "ケース番号"),
                Field("PersonID", "数字", lambda r: r["atena_no"], "宛名番号"),
                Field("StartDate", "日付", lambda r: dmy(r["started_on"]), "dd/mm/yyyy"),
                Field("EndDate", "日付", lambda r: dmy(r["ended_on"]), "dd/mm/yyyy。保護中は空欄"),
                office,
                Field("ExtractDate", "日付", lambda r: dmy(r["extracted_on"]), "dd/mm/yyyy"),
            ],
        ),
        (
            "障がい者医療.csv",
            "JUSHO_IRYO_<年月>.csv",
            "重度心身障害者医療費助成 資格者一覧",
            [
                Field("PersonID", "数字", lambda r: r["atena_no"], "宛名番号"),
                Field("ValidFrom", "日付", lambda r: dmy(r["valid_from"]), "dd/mm/yyyy"),
                Field("ValidTo", "日付", lambda r: dmy(r["valid_to"]), "dd/mm/yyyy。資格中は空欄"),
                Field("ExtractDate", "日付", lambda r: dmy(r["extracted_on"]), "dd/mm/yyyy"),
            ],
        ),
        (
            "相談記録.csv",
            "SOUDAN_LOG_<年月>.csv",
            "福祉総合相談 記録一覧",
            [
                Field("ConsultationNo", "英数字", lambda r: r["consultation_no"], "相談番号"),
                Field("ConsultedDate", "日付", lambda r: dmy(r["consulted_on"]), "dd/mm/yyyy"),
                Field("PersonID", "数字", lambda r: r["atena_no"] or "", "宛名番号。世帯単位は空欄"),
                Field("HouseholdID", "英数字", lambda r: r["setai_no"] or "", "世帯番号。空欄のことがある"),
                Field("Field", CL, lambda r: _cl("Field", vb.FIELDS[r["field"]]), "相談分野「code:名称」", "Field"),
                Field("Kind", "コード", lambda r: KIND_C[r["kind"]], "相談種別", "Kind"),
                Field(
                    "Summary",
                    "文字",
                    lambda r: TOPICS[int(_h("sum", r["consultation_no"]) * len(TOPICS))],
                    "自由記述。改行・カンマを含むことがある",
                ),
                Field("ExtractDate", "日付", lambda r: dmy(r["extracted_on"]), "dd/mm/yyyy"),
            ],
        ),
    ]
    for key, name, title, fields in specs:
        doc = FileDoc(name, title, "CSV", "Shift_JIS（CP932）", fields, notes=["項目名は英字"])
        write_delimited(out / name.replace("<年月>", ym), doc, t[key])
        delivery.add("fukushi", doc, C_CODES)


def _gakko(t, out: Path, ym: str, m: date, delivery: Delivery):
    reg, att = t["学齢簿.csv"], t["出欠.xlsx"]
    reg_fields = [
        Field("学校", CL, lambda r: _cl("学校", SCHOOL[r["school"]]), "「学校コード:学校名」", "学校"),
        Field("学年", "文字", lambda r: f"{r['grade']}年", "（3年）"),
        Field("児童生徒番号", "英数字", lambda r: r["student_no"], ""),
        Field("宛名番号", "数字", lambda r: r["atena_no"] or "", "住民記録と連携できない児童生徒は空欄"),
        Field("氏名", "文字", lambda r: r["name"], ""),
        Field("ふりがな", "文字", lambda r: r["name_kana"], "カタカナ"),
        Field("性別", "文字", lambda r: "男" if r["sex"] == "1" else "女", "男／女"),
        Field("生年月日", "日付", lambda r: kanji_ad(r["birth_date"]), "西暦（2015年4月1日）"),
        Field("住所", "文字", lambda r: r["address"], ""),
        Field("特支", "コード", lambda r: ring(r["in_special_needs_class"]), "特別支援学級", "有無（○）"),
        Field("抽出日", "日付", lambda r: kanji_ad(r["extracted_on"]), "西暦"),
    ]
    att_fields = [
        Field("学年", "数値", lambda r: r["grade"], ""),
        Field("組", "文字", lambda r: r["class"], ""),
        Field("番号", "英数字", lambda r: r["student_no"] or None, "児童生徒番号。未登録は空欄"),
        Field("氏名", "文字", lambda r: r["name"], ""),
        Field("生年月日", "日付", lambda r: r["birth_date"], "日付セル"),
        Field("欠席", "数値", lambda r: r["absence_days_ytd"], "年度累計（日）"),
        Field("遅刻早退", "数値", lambda r: r["late_or_early_ytd"], "年度累計（回）"),
        Field("前年度欠席", "数値", lambda r: r["absence_days_last_year"], "前年度に在籍しなかった児童生徒は空欄"),
        Field("集計日", "日付", lambda r: r["extracted_on"], "日付セル"),
    ]
    doc = FileDoc("学齢簿_<年月>.csv", "学齢簿（小学校・中学校）", "CSV", "Shift_JIS（CP932）", reg_fields)
    write_delimited(out / f"学齢簿_{ym}.csv", doc, reg)
    delivery.add("gakko", doc, C_CODES)
    for school, code in SCHOOL.items():
        rows = [r for r in att if r["school"] == school]
        if code.startswith("9"):  # the private school does not report attendance
            continue
        doc = FileDoc(
            f"出欠_{code}_<年月>.xlsx",
            f"出欠状況（{school}）",
            "Excel",
            "（xlsx）",
            att_fields,
            header_row=4,
            data_row=5,
            sheet="出欠（1枚目のシート）",
            notes=["学校ごとに1ファイル。学校はファイル名の学校コード", "1〜3行目は表題・集計月・空行"],
        )
        _xlsx(out / f"出欠_{code}_{ym}.xlsx", doc, rows, [[f"出欠状況　{school}"], [f"{m.year}年{m.month}月"], []])
        delivery.add("gakko", doc, C_CODES)

    doc = FileDoc(
        "学校健診_<年月>.csv",
        "定期健康診断 結果一覧",
        "CSV",
        "Shift_JIS（CP932）",
        [
            Field("学校名", "文字", lambda r: r["school"], ""),
            Field("氏名", "文字", lambda r: r["name"], ""),
            Field("生年月日", "日付", lambda r: kanji_ad(r["birth_date"]), "西暦（2015年4月1日）"),
            Field("実施日", "日付", lambda r: kanji_ad(r["examined_on"]), "西暦"),
            Field("精密検査", "コード", lambda r: "要" if r["needs_referral"] else "", "", "要（空欄）"),
            Field("う歯数", "数値", lambda r: r["caries_count"], ""),
            Field("作成日", "日付", lambda r: kanji_ad(r["extracted_on"]), "西暦"),
        ],
        header_row=2,
        data_row=3,
        notes=["見出しは2行：1行目が親見出し（児童生徒・内科・歯科）、2行目が項目名"],
    )
    write_delimited(
        out / f"学校健診_{ym}.csv",
        doc,
        t["学校健診.csv"],
        title=[_header_line(["児童生徒", "", "", "健診", "内科", "歯科", ""])],
    )
    delivery.add("gakko", doc, C_CODES | {"要（空欄）": table(("要", "要精密検査"), ("（空欄）", "異常なし"))})

    doc = FileDoc(
        "就学援助_<年月>.csv",
        "就学援助 認定者一覧",
        "CSV",
        "Shift_JIS（CP932）",
        [
            Field("認定年度", "文字", lambda r: fiscal_wareki(r["fiscal_year"]), "和暦の年度（令和7年度）"),
            Field("児童生徒番号", "英数字", lambda r: r["student_no"], ""),
            Field("氏名", "文字", lambda r: r["name"], ""),
            Field("生年月日", "日付", lambda r: kanji_ad(r["birth_date"]), "西暦"),
            Field("作成日", "日付", lambda r: kanji_ad(r["extracted_on"]), "西暦"),
        ],
    )
    write_delimited(out / f"就学援助_{ym}.csv", doc, t["就学援助.csv"])
    delivery.add("gakko", doc, C_CODES)

    lunch = t["給食費.csv"]
    doc = FileDoc(
        "給食費_未納_<年月>.csv",
        "学校給食費 未納者一覧",
        "CSV",
        "Shift_JIS（CP932）",
        [
            Field("学校名", "文字", lambda r: r["school"], ""),
            Field("児童生徒番号", "英数字", lambda r: r["student_no"], ""),
            Field("氏名", "文字", lambda r: r["name"], ""),
            Field("生年月日", "日付", lambda r: kanji_ad(r["birth_date"]), "西暦"),
            Field("未納月数", "数値", lambda r: r["months_in_arrears"], ""),
            Field("作成日", "日付", lambda r: kanji_ad(r["extracted_on"]), "西暦"),
        ],
        trailer_rows=1,
        notes=["最終行は「以下余白」"],
    )
    write_delimited(out / f"給食費_未納_{ym}.csv", doc, lunch, trailer=["以下余白"])
    delivery.add("gakko", doc, C_CODES)


def write_docs(vendor_dir: Path, delivery: Delivery):
    vb.write_docs(vendor_dir, delivery, departments=DEPARTMENTS)
