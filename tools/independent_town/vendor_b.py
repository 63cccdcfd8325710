"""A second vendor family for the same town (--vendor-layout b).

Layout a (vendor.py) is one set of the departments' systems; this is another town's worth of
systems for the same records, so that a person mapping exports they have never seen can be tried
more than once: some sources from 標準準拠-style systems (基本データリスト-like names, UTF-8 with
BOM, everything quoted), others from older systems of their own (title and total lines, codes in
letters, 全角 digits, two columns that make one code, 和暦 in kanji, letters or an era code split
over four columns, Excel serials, a fixed-width file counted in bytes with record types, a
workbook with a cover sheet and a units row, one export holding three contract files, and one
contract file delivered as two exports).

Everything the departments hand over with the files is written from the same specifications that
write the files: per department a file list (ファイル一覧), a layout document (レイアウト定義書) and
code tables (コード表), in Japanese, naming the vendor's fields only, in DIR/vendor/docs/. No
mapping is written and nothing about these layouts is documented outside this file: it is the
blind exercise of issue #21.
"""

from __future__ import annotations

import csv
import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from vendor import FW, era, fixed, serial, wareki_dot, wareki_kanji, write_text, ymd

DEPARTMENTS = {  # folder → (the department as the vendor documents name it, its system)
    "jumin": ("住民課", "住民記録システム（標準準拠版）"),
    "kodomo_shien": ("こども支援班", "子ども・子育て支援システム／家庭児童相談システム"),
    "kodomo_katei": ("こども家庭班", "健康管理システム（母子保健）"),
    "fukushi": ("福祉班", "福祉総合システム（標準準拠版）／生活保護システム"),
    "gakko": ("学校教育課", "学齢簿システム／校務支援システム"),
}

ASCII_FW = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)} | {" ": "　"})


# ---- date spellings -------------------------------------------------------------------------------
def _d(fn: Callable[[date], str]) -> Callable[[date | None], str]:
    return lambda d: "" if d is None else fn(d)


iso = _d(lambda d: d.isoformat())
slash = _d(lambda d: f"{d.year}/{d.month}/{d.day}")
dots = _d(lambda d: f"{d.year}.{d.month}.{d.day}")
kanji_padded = _d(lambda d: f"{era(d)[0]}{era(d)[2]:02d}年{d.month:02d}月{d.day:02d}日")  # 令和06年04月01日
kanji_abbr = _d(lambda d: f"{era(d)[0][0]}{era(d)[2]}.{d.month}.{d.day}")  # 令6.4.1
letter_padded = _d(lambda d: f"{era(d)[1]}{era(d)[2]:02d}.{d.month:02d}.{d.day:02d}")  # R06.04.01
letter_slash = _d(lambda d: f"{era(d)[1]}{era(d)[2]}/{d.month}/{d.day}")  # R6/4/1
letter_compact = _d(lambda d: f"{era(d)[1]}{era(d)[2]:02d}{d.month:02d}{d.day:02d}")  # R060401
kanji_month = _d(lambda d: f"{era(d)[0]}{era(d)[2]}年{d.month}月")  # 令和6年4月
ERA_CODE = {"明治": "1", "大正": "2", "昭和": "3", "平成": "4", "令和": "5"}


def xl(d):
    return "" if d is None else serial(d)


def _h(*key) -> float:
    """A stable draw in [0, 1) for the vendor's own bookkeeping (codes no contract column holds)."""
    return zlib.crc32("|".join(map(str, key)).encode()) / 2**32


# ---- what a department hands over -------------------------------------------------------------------
@dataclass
class Field:
    name: str
    kind: str  # 型 as the vendor's document says: 数字 / 英数字 / 文字 / 日付 / 年月 / コード / 数値
    get: Callable[[dict], object] | None  # None: documented only (layout a writes its files by hand)
    note: str = ""
    code: str | None = None  # the code table of a コード field
    width: int | None = None  # bytes, for fixed width; 桁 for the document otherwise


@dataclass
class FileDoc:
    name: str  # as the document names it, <年月> / <年月日> for the date part
    title: str
    form: str  # CSV / TSV / Excel / 固定長
    encoding: str  # as the document says it
    fields: list[Field]
    header_row: int | None = 1
    data_row: int = 2
    trailer_rows: int = 0
    delimiter: str = ""
    sheet: str = ""
    record_length: int | None = None
    notes: list[str] = field(default_factory=list)
    records: list[tuple[str, str]] = field(default_factory=list)  # fixed width: (区分, what the record is)
    data_mark: str = ""  # fixed width: the record type of the data records


@dataclass
class Delivery:
    files: dict[str, list[FileDoc]] = field(default_factory=dict)  # source → documents (first month)
    codes: dict[str, dict[str, list[tuple[str, ...]]]] = field(default_factory=dict)  # source → table → rows

    def add(self, source: str, doc: FileDoc, tables: dict[str, list[tuple[str, ...]]]):
        docs = self.files.setdefault(source, [])
        if all(d.name != doc.name for d in docs):
            docs.append(doc)
        for name in dict.fromkeys(f.code for f in doc.fields if f.code):  # in field order: files are the same per seed
            self.codes.setdefault(source, {})[name] = tables[name]


CODEC = {"Shift_JIS（CP932）": "cp932", "UTF-8（BOM付き）": "utf-8-sig", "UTF-8（BOMなし）": "utf-8"}


def write_delimited(path: Path, doc: FileDoc, rows: list[dict], title=(), trailer=(), quote_all=False):
    buf = io.StringIO()
    for line in title:
        buf.write(line + "\r\n")
    w = csv.writer(
        buf,
        delimiter="\t" if doc.form == "TSV" else ",",
        lineterminator="\r\n",
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
    )
    w.writerow([f.name for f in doc.fields])
    for r in rows:
        w.writerow([f.get(r) for f in doc.fields])
    for line in trailer:
        buf.write(line + "\r\n")
    write_text(path, buf.getvalue(), CODEC[doc.encoding])


# ---- code tables --------------------------------------------------------------------------------------
def table(*rows: tuple[str, ...]) -> list[tuple[str, ...]]:
    """(コード, 内容[, 備考]) rows of one code table."""
    return list(rows)


CODES: dict[str, list[tuple[str, ...]]] = {
    "元号コード": table(("1", "明治"), ("2", "大正"), ("3", "昭和"), ("4", "平成"), ("5", "令和")),
    "性別コード": table(("1", "男"), ("2", "女")),
    "続柄コード": table(
        ("02", "世帯主"),
        ("11", "配偶者（性別で夫・妻を区別）"),
        ("20", "子"),
        ("51", "父母（性別で父・母を区別）"),
        ("61", "孫"),
        ("71", "子の配偶者"),
        ("99", "その他の親族・同居人"),
    ),
    "支援措置区分": table(("1", "支援措置対象者（DV等）"), ("（空欄）", "対象外")),
    "登録種別": table(("K", "要保護児童"), ("S", "要支援児童"), ("T", "特定妊婦")),
    "一時保護有無": table(("01", "一時保護あり"), ("00", "一時保護なし")),
    "相談種別コード": table(
        ("110", "養護相談（経済的困窮）"),
        ("120", "養護相談（その他）"),
        ("210", "障害相談"),
        ("310", "非行相談"),
        ("410", "育成相談"),
        ("990", "その他の相談"),
    ),
    "支給区分": table(("1", "全部支給"), ("2", "一部支給"), ("3", "全部停止")),
    "施設コード": table(
        ("P01", "しおかぜ保育園", "認可保育所"),
        ("P02", "みさき保育所", "認可保育所"),
        ("P03", "緑ヶ丘保育園", "認可保育所"),
        ("N01", "浜見台こども園", "幼保連携型認定こども園"),
        ("K01", "松風幼稚園", "幼稚園（新制度移行）"),
        ("S01", "ひよこ小規模保育室", "小規模保育事業 A型（地域型保育事業）"),
    ),
    "健診種別": table(("04", "4か月児健康診査"), ("18", "1歳6か月児健康診査"), ("36", "3歳児健康診査")),
    "問診判定": table(("1", "所見なし"), ("2", "要観察"), ("（空欄）", "未受診")),
    "喫煙区分": table(("Y", "喫煙あり"), ("N", "喫煙なし"), ("（空欄）", "未受診・未回答")),
    "事後措置区分": table(("00", "措置なし"), ("01", "経過観察"), ("02", "精密健康診査"), ("03", "関係機関へ紹介")),
    "訪問状況": table(("1", "訪問済"), ("2", "未訪問")),
    "ワクチン種類": table(
        ("01", "ヒブ"),
        ("02", "小児用肺炎球菌"),
        ("03", "Ｂ型肝炎"),
        ("04", "五種混合"),
        ("05", "ＢＣＧ"),
        ("06", "ＭＲ（麻しん風しん混合）"),
        ("07", "水痘"),
        ("08", "日本脳炎"),
    ),
    "接種区分": table(
        ("00", "1回接種のワクチン（区分なし）"),
        ("01", "1回目"),
        ("02", "2回目"),
        ("03", "3回目"),
        ("04", "4回目"),
        ("05", "追加接種"),
        ("11", "第1期"),
        ("12", "第2期"),
        ("21", "第1期 1回目"),
        ("22", "第1期 2回目"),
    ),
    "資格種別": table(
        ("11", "身体障害者手帳"),
        ("12", "療育手帳"),
        ("13", "精神障害者保健福祉手帳"),
        ("21", "障害児通所受給者証"),
        ("31", "重度心身障害者医療費助成"),
    ),
    "等級コード": table(
        ("01", "1級"),
        ("02", "2級"),
        ("03", "3級"),
        ("04", "4級"),
        ("05", "5級"),
        ("06", "6級"),
        ("07", "7級"),
        ("11", "A（重度）"),
        ("12", "B（その他）"),
        ("（空欄）", "等級なし（手帳以外）"),
    ),
    "発達障害記載": table(("1", "手帳に発達障害の記載あり"), ("（空欄）", "記載なし・手帳以外")),
    "要介護状態区分": table(
        ("１", "要支援１"),
        ("２", "要支援２"),
        ("３", "要介護１"),
        ("４", "要介護２"),
        ("５", "要介護３"),
        ("６", "要介護４"),
        ("７", "要介護５"),
    ),
    "相談分野コード": table(
        ("A", "障がい福祉"),
        ("B", "高齢者福祉"),
        ("C", "生活困窮"),
        ("D", "子育て"),
        ("E", "こころの健康"),
        ("F", "家庭問題"),
    ),
    "福祉相談種別": table(
        ("11", "児童虐待に関する相談"), ("12", "児童に関する一般相談"), ("13", "養護相談"), ("99", "その他")
    ),
    "学校コード": table(
        ("101", "しおかぜ東小学校"),
        ("102", "しおかぜ西小学校"),
        ("201", "しおかぜ中学校"),
        ("901", "私立みさき学園中学校", "私立（区域外）。出欠・健診の報告なし"),
    ),
    "性別区分": table(("M", "男"), ("F", "女")),
    "学級種別": table(("1", "通常の学級"), ("2", "特別支援学級")),
    "精密検査区分": table(("1", "要精密検査"), ("0", "異常なし・精密検査不要")),
    "援助区分": table(("1", "要保護"), ("2", "準要保護")),
}

# the vendors' codes for what the departments record (the department's own words on the left)
RELATION = {"世帯主": "02", "妻": "11", "夫": "11", "子": "20", "父": "51", "母": "51", "孫": "61", "子の妻": "71"}
YT = {"要保護": "K", "要支援": "S", "特定妊婦": "T"}
CONSULT = {"生活困窮": "110", "障がい者": "210", "その他": "990"}
FACILITY = {
    "しおかぜ保育園": "P01",
    "みさき保育所": "P02",
    "緑ヶ丘保育園": "P03",
    "浜見台こども園": "N01",
    "松風幼稚園": "K01",
    "ひよこ小規模保育室": "S01",
}
CHECKUP = {"4か月": "04", "1歳6か月": "18", "3歳": "36"}
VACCINE_KIND = {
    "ヒブ": "01",
    "小児用肺炎球菌": "02",
    "B型肝炎": "03",
    "五種混合": "04",
    "BCG": "05",
    "MR": "06",
    "水痘": "07",
    "日本脳炎": "08",
}
VACCINE_DOSE = {
    "": "00",
    "1回目": "01",
    "2回目": "02",
    "3回目": "03",
    "4回目": "04",
    "追加": "05",
    "1期": "11",
    "2期": "12",
}
VACCINE_DOSE |= {"1期 1回目": "21", "1期 2回目": "22"}
CERT = {"身体": "11", "療育": "12", "精神": "13"}
GRADE = {f"{n}級": f"{n:02d}" for n in range(1, 8)} | {"A": "11", "B": "12"}
CARE = {
    "要支援1": "１",
    "要支援2": "２",
    "要介護1": "３",
    "要介護2": "４",
    "要介護3": "５",
    "要介護4": "６",
    "要介護5": "７",
}
FIELDS = {"障がい福祉": "A", "高齢者福祉": "B", "生活困窮": "C", "子育て": "D", "こころの健康": "E", "家庭問題": "F"}
F_KIND = {"児童虐待相談": "11", "児童相談": "12", "養護相談": "13", "その他": "99"}
SCHOOL = {"しおかぜ東小学校": "101", "しおかぜ西小学校": "102", "しおかぜ中学校": "201", "私立みさき学園中学校": "901"}


def yn(v, yes, no=""):
    return "" if v is None else (yes if v else no)


def blank(v):
    return "" if v is None else v


# ---- the departments ------------------------------------------------------------------------------------
def write_month(tables: dict, out: Path, m: date, delivery: Delivery):
    """One month of layout b under out/<source>/; the documents go to ``delivery``."""
    ym = f"{m.year:04d}{m.month:02d}"
    t = {f: rows for (_s, f), rows in tables.items()}
    _jumin(t, out / "jumin", delivery)
    _kodomo_shien(t, out / "kodomo_shien", ym, delivery)
    _kodomo_katei(t, out / "kodomo_katei", ym, delivery)
    _fukushi(t, out / "fukushi", ym, m, delivery)
    _gakko(t, out / "gakko", ym, m, delivery)


def _split(name: str) -> tuple[str, str]:
    a, _, b = name.partition("　")
    return a, b


def _jumin(t, out: Path, delivery: Delivery):
    """住民記録システム（標準準拠版）の基本データリスト: UTF-8 BOM, every field quoted, 抽出日 in the name."""
    rows = t["住民.csv"]
    era_parts = {}

    def born(r, i):
        d = r["birth_date"]
        if r["atena_no"] not in era_parts:
            k, _, y = era(d)
            era_parts[r["atena_no"]] = (ERA_CODE[k], f"{y:02d}", f"{d.month:02d}", f"{d.day:02d}")
        return era_parts[r["atena_no"]][i]

    address = [(r["address"].partition("　")) for r in rows]
    street = {r["atena_no"]: a[0].translate(FW) for r, a in zip(rows, address, strict=True)}
    building = {r["atena_no"]: a[2].translate(FW) for r, a in zip(rows, address, strict=True)}
    doc = FileDoc(
        "JUKI_KIHON_<年月日>.csv",
        "住民基本台帳 基本データリスト（全住民・抽出日時点）",
        "CSV",
        "UTF-8（BOM付き）",
        [
            Field("宛名番号", "数字", lambda r: r["atena_no"], "10桁", width=10),
            Field("世帯番号", "英数字", lambda r: r["setai_no"], "", width=8),
            Field("氏名_氏", "文字", lambda r: _split(r["name"])[0], "漢字"),
            Field("氏名_名", "文字", lambda r: _split(r["name"])[1], "漢字"),
            Field("カナ氏名_氏", "文字", lambda r: _split(r["name_kana"])[0], "全角カタカナ"),
            Field("カナ氏名_名", "文字", lambda r: _split(r["name_kana"])[1], "全角カタカナ"),
            Field("生年月日_元号", "コード", lambda r: born(r, 0), "", "元号コード", 1),
            Field("生年月日_年", "数字", lambda r: born(r, 1), "和暦の年（2桁、元年は01）", width=2),
            Field("生年月日_月", "数字", lambda r: born(r, 2), "2桁", width=2),
            Field("生年月日_日", "数字", lambda r: born(r, 3), "2桁", width=2),
            Field("性別", "コード", lambda r: r["sex"], "", "性別コード", 1),
            Field("続柄", "コード", lambda r: RELATION[r["relationship"]], "世帯主からみた続柄", "続柄コード", 2),
            Field(
                "住所",
                "文字",
                lambda r: street[r["atena_no"]],
                "都道府県から番地・号まで。数字は全角。方書は含まない",
            ),
            Field("方書", "文字", lambda r: building[r["atena_no"]], "建物名・部屋番号。数字は全角。なければ空欄"),
            Field(
                "住民となった年月日",
                "日付",
                lambda r: iso(r["resident_since"]),
                "西暦 YYYY-MM-DD（出生日または転入日）",
            ),
            Field("転入年月日", "日付", lambda r: iso(r["moved_in_on"]), "西暦 YYYY-MM-DD。転入者のみ"),
            Field("支援措置", "コード", lambda r: "1" if r["has_dv_protection"] else "", "", "支援措置区分", 1),
        ],
        notes=["全項目をダブルクォートで囲む", "抽出日はファイル名の日付（年月日8桁）"],
    )
    ex = rows[0]["extracted_on"] if rows else None
    write_delimited(out / f"JUKI_KIHON_{ymd(ex)}.csv", doc, rows, quote_all=True)
    delivery.add("jumin", doc, CODES)


def _kodomo_shien(t, out: Path, ym: str, delivery: Delivery):
    yt = t["要対協.csv"]
    doc = FileDoc(
        "要保護児童台帳_<年月>.csv",
        "要保護児童対策地域協議会 登録台帳（家庭児童相談システム）",
        "CSV",
        "Shift_JIS（CP932）",
        [
            Field("児童宛名番号", "数字", lambda r: r["atena_no"], "特定妊婦は妊婦本人の宛名番号", width=10),
            Field("登録種別", "コード", lambda r: YT[r["category"]], "", "登録種別", 1),
            Field("登録年月日", "日付", lambda r: kanji_padded(r["registered_on"]), "和暦（令和06年04月01日）"),
            Field("終結年月日", "日付", lambda r: kanji_padded(r["closed_on"]), "和暦。継続中は空欄"),
            Field("一時保護", "コード", lambda r: "01" if r["had_temporary_custody"] else "00", "", "一時保護有無", 2),
            Field(
                "一時保護年月日", "日付", lambda r: kanji_padded(r["temporary_custody_on"]), "和暦。不明・なしは空欄"
            ),
            Field("出力年月日", "日付", lambda r: kanji_padded(r["extracted_on"]), "和暦"),
        ],
        header_row=2,
        data_row=3,
        notes=["1行目は表題"],
    )
    write_delimited(out / f"要保護児童台帳_{ym}.csv", doc, yt, title=["要保護児童対策地域協議会　登録児童台帳"])
    delivery.add("kodomo_shien", doc, CODES)

    kc = t["児童相談記録.csv"]
    doc = FileDoc(
        "児童相談受付_<年月>.csv",
        "児童家庭相談 受付一覧（過去5年分）",
        "CSV",
        "UTF-8（BOM付き）",
        [
            Field("受付No", "英数字", lambda r: r["consultation_no"], ""),
            Field("宛名番号", "数字", lambda r: blank(r["atena_no"]), "相談対象の児童等。世帯単位の相談は空欄"),
            Field("世帯番号", "英数字", lambda r: blank(r["setai_no"]), "空欄のことがある"),
            Field("受付日", "日付", lambda r: dots(r["consulted_on"]), "西暦（2024.4.1）"),
            Field("相談種別", "コード", lambda r: CONSULT[r["category"]], "", "相談種別コード", 3),
            Field("出力日", "日付", lambda r: dots(r["extracted_on"]), "西暦（2024.4.1）"),
        ],
    )
    write_delimited(out / f"児童相談受付_{ym}.csv", doc, kc)
    delivery.add("kodomo_shien", doc, CODES)

    doc = FileDoc(
        "JIFU_JUKYUSHA_<年月>.csv",
        "児童扶養手当 受給者一覧（資格喪失後2年以内を含む）",
        "CSV",
        "Shift_JIS（CP932）",
        [
            Field("受給者_宛名番号", "数字", lambda r: r["recipient_atena_no"], "請求者（受給者）本人", width=10),
            Field("受給者_世帯番号", "英数字", lambda r: blank(r["setai_no"]), "空欄のことがある"),
            Field(
                "支給区分",
                "コード",
                lambda r: "1" if _h("jifu", r["recipient_atena_no"]) < 0.55 else "2",
                "",
                "支給区分",
                1,
            ),
            Field("認定年月日", "日付", lambda r: ymd(r["certified_on"]), "西暦8桁"),
            Field("資格喪失年月日", "日付", lambda r: ymd(r["ended_on"]), "西暦8桁。受給中は空欄"),
            Field("作成年月日", "日付", lambda r: ymd(r["extracted_on"]), "西暦8桁"),
        ],
    )
    write_delimited(out / f"JIFU_JUKYUSHA_{ym}.csv", doc, t["児童扶養手当.csv"])
    delivery.add("kodomo_shien", doc, CODES)

    doc = FileDoc(
        "ひとり親医療_資格者_<年月>.tsv",
        "ひとり親家庭等医療費助成 資格者一覧（喪失後1年以内を含む）",
        "TSV",
        "Shift_JIS（CP932）",
        [
            Field("宛名番号", "数字", lambda r: r["atena_no"], "", width=10),
            Field("受給者番号", "数字", lambda r: f"7{int(r['atena_no'][-7:]):07d}", "医療証の番号"),
            Field("資格取得日", "日付", lambda r: xl(r["valid_from"]), "Excel の日付シリアル値"),
            Field("資格喪失日", "日付", lambda r: xl(r["valid_to"]), "Excel の日付シリアル値。資格中は空欄"),
            Field("抽出日", "日付", lambda r: xl(r["extracted_on"]), "Excel の日付シリアル値"),
        ],
        delimiter="タブ",
    )
    write_delimited(out / f"ひとり親医療_資格者_{ym}.tsv", doc, t["ひとり親医療.csv"])
    delivery.add("kodomo_shien", doc, CODES)

    doc = FileDoc(
        "施設利用児童_<年月>.csv",
        "教育・保育施設等 利用児童一覧（退所後1年以内を含む）",
        "CSV",
        "Shift_JIS（CP932）",
        [
            Field("児童宛名番号", "数字", lambda r: r["atena_no"], "", width=10),
            Field(
                "施設コード",
                "コード",
                lambda r: FACILITY[r["facility"]],
                "施設名（内容）と施設の種類（備考）はコード表",
                "施設コード",
                3,
            ),
            Field("利用開始日", "日付", lambda r: kanji_abbr(r["enrolled_on"]), "和暦（令6.4.1）"),
            Field("利用終了日", "日付", lambda r: kanji_abbr(r["left_on"]), "和暦（令6.4.1）。利用中は空欄"),
            Field("基準日", "日付", lambda r: kanji_abbr(r["extracted_on"]), "和暦（令6.4.1）。データ抽出日"),
        ],
    )
    write_delimited(out / f"施設利用児童_{ym}.csv", doc, t["保育所入所.csv"])
    delivery.add("kodomo_shien", doc, CODES)


def _vaccine(name: str) -> tuple[str, str]:
    kind, _, dose = name.partition(" ")
    return VACCINE_KIND[kind], VACCINE_DOSE[dose]


def _kodomo_katei(t, out: Path, ym: str, delivery: Delivery):
    doc = FileDoc(
        "乳幼児健診結果_<年月>.csv",
        "乳幼児健康診査 対象者・結果一覧（対象月を過ぎた対象者）",
        "CSV",
        "Shift_JIS（CP932）",
        [
            Field("宛名番号", "数字", lambda r: r["atena_no"], "", width=10),
            Field("健診種別", "コード", lambda r: CHECKUP[r["checkup"]], "", "健診種別", 2),
            Field("対象年月", "年月", lambda r: kanji_month(r["due_month"]), "和暦（令和6年4月）"),
            Field("受診日", "日付", lambda r: slash(r["attended_on"]), "西暦（2024/4/1）。未受診は空欄"),
            Field("問診判定", "コード", lambda r: yn(r["has_questionnaire_concern"], "2", "1"), "", "問診判定", 1),
            Field("う歯数", "数値", lambda r: blank(r["caries_count"]), "未受診は空欄"),
            Field("母喫煙", "コード", lambda r: yn(r["mother_smokes"], "Y", "N"), "", "喫煙区分", 1),
            Field(
                "事後措置",
                "コード",
                lambda r: (
                    ["01", "02", "03"][int(3 * _h("fu", r["atena_no"], r["checkup"]))] if r["has_follow_up"] else "00"
                ),
                "未受診者への受診勧奨・訪問も含む",
                "事後措置区分",
                2,
            ),
            Field("処理日", "日付", lambda r: slash(r["extracted_on"]), "西暦（2024/4/1）。データ抽出日"),
        ],
    )
    write_delimited(out / f"乳幼児健診結果_{ym}.csv", doc, t["乳幼児健診.csv"])
    delivery.add("kodomo_katei", doc, CODES)

    doc = FileDoc(
        "妊娠届_<年月>.tsv",
        "妊娠届出・産婦健診（EPDS）・乳児家庭全戸訪問（出生児ごと）",
        "TSV",
        "UTF-8（BOMなし）",
        [
            Field("母宛名番号", "数字", lambda r: r["mother_atena_no"], "", width=10),
            Field("児宛名番号", "数字", lambda r: r["child_atena_no"], "", width=10),
            Field("届出週数", "数値", lambda r: r["notification_week"], "妊娠届出時の妊娠週数"),
            Field("EPDS", "数値", lambda r: blank(r["epds_score"]), "EPDS 合計点。未実施は空欄"),
            Field("全戸訪問", "コード", lambda r: "1" if r["home_visit"] == "済" else "2", "", "訪問状況", 1),
            Field("作成日", "日付", lambda r: letter_slash(r["extracted_on"]), "和暦（R6/4/1）"),
        ],
        delimiter="タブ",
    )
    write_delimited(out / f"妊娠届_{ym}.tsv", doc, t["妊産婦.csv"])
    delivery.add("kodomo_katei", doc, CODES)

    names = {r["atena_no"]: r["name"] for r in t["住民.csv"]}
    vx = t["予防接種.csv"]
    ex = vx[0]["extracted_on"] if vx else None
    fields = [
        Field("レコード区分", "数字", lambda r: "20", "20 固定（データレコード）", width=2),
        Field("宛名番号", "数字", lambda r: r["atena_no"], "", width=10),
        Field("氏名", "文字", lambda r: names.get(r["atena_no"], ""), "全角。全角スペースで埋める", width=20),
        Field("ワクチン種類", "コード", lambda r: _vaccine(r["vaccine"])[0], "", "ワクチン種類", 2),
        Field(
            "接種区分",
            "コード",
            lambda r: _vaccine(r["vaccine"])[1],
            "ワクチン種類と組み合わせて接種を表す",
            "接種区分",
            2,
        ),
        Field("接種名", "文字", lambda r: r["vaccine"].translate(ASCII_FW), "全角。表示用", width=24),
        Field(
            "接種期限", "日付", lambda r: letter_compact(r["due_on"]), "和暦（元号英字＋年月日6桁: R060401）", width=7
        ),
        Field("接種日", "日付", lambda r: letter_compact(r["given_on"]), "和暦（同上）。未接種は空白", width=7),
        Field("処理日", "日付", lambda r: ymd(r["extracted_on"]), "西暦8桁。データ抽出日", width=8),
        Field("予備", "文字", lambda r: "", "空白", width=8),
    ]
    length = sum(f.width for f in fields)
    doc = FileDoc(
        "YB<年月>.TXT",
        "定期予防接種 接種履歴（対象年齢の児童）",
        "固定長",
        "Shift_JIS（CP932）",
        fields,
        header_row=None,
        data_row=2,
        trailer_rows=1,
        record_length=length,
        notes=["位置・長さはバイト数（全角1文字＝2バイト）", "改行 CR+LF"],
        records=[
            ("10", "ヘッダレコード（1行目）: レコード区分 10、作成日（西暦8桁）、以降空白"),
            ("20", "データレコード: 下の項目"),
            ("90", "トレーラレコード（最終行）: レコード区分 90、データ件数（8桁）、以降空白"),
        ],
        data_mark="20",
    )
    lines = [fixed("10" + ymd(ex), length)]
    for r in vx:
        line = ""
        for f in fields:
            pad = "　" if f.kind == "文字" and f.name != "予備" else " "
            line += fixed(str(f.get(r)), f.width, pad)
        lines.append(line)
    lines.append(fixed(f"90{len(vx):08d}", length))
    assert all(len(x.encode("cp932")) == length for x in lines)
    write_text(out / f"YB{ym}.TXT", "\r\n".join(lines) + "\r\n", "cp932")
    delivery.add("kodomo_katei", doc, CODES)


def _fukushi(t, out: Path, ym: str, m: date, delivery: Delivery):
    rows = []
    for r in t["障害者手帳.csv"]:
        rows.append(
            dict(
                atena_no=r["atena_no"],
                kind=CERT[r["certificate_type"]],
                no=f"{CERT[r['certificate_type']]}{int(r['atena_no'][-6:]):06d}",
                grade=GRADE[r["grade"]],
                dd="1" if r["has_developmental_disability"] else "",
                start=r["issued_on"],
                end=None,
                ex=r["extracted_on"],
            )
        )
    for r in t["障害児受給者証.csv"]:
        rows.append(
            dict(
                atena_no=r["atena_no"],
                kind="21",
                no=r["certificate_no"],
                grade="",
                dd="",
                start=r["issued_on"],
                end=r["valid_to"],
                ex=r["extracted_on"],
            )
        )
    for r in t["障がい者医療.csv"]:
        rows.append(
            dict(
                atena_no=r["atena_no"],
                kind="31",
                no="",
                grade="",
                dd="",
                start=r["valid_from"],
                end=r["valid_to"],
                ex=r["extracted_on"],
            )
        )
    rows.sort(key=lambda r: (r["atena_no"], r["kind"]))
    doc = FileDoc(
        "SHOGAI_SHIKAKU_<年月>.csv",
        "障害者福祉 資格台帳（手帳・障害児通所受給者証・重度心身障害者医療）",
        "CSV",
        "Shift_JIS（CP932）",
        [
            Field("宛名番号", "数字", lambda r: r["atena_no"], "", width=10),
            Field("資格種別", "コード", lambda r: r["kind"], "1人が複数の資格を持つときは資格ごとに1行", "資格種別", 2),
            Field("証番号", "英数字", lambda r: r["no"], "手帳番号・受給者証番号。医療費助成は空欄"),
            Field("等級", "コード", lambda r: r["grade"], "手帳のみ", "等級コード", 2),
            Field("発達障害", "コード", lambda r: r["dd"], "手帳のみ", "発達障害記載", 1),
            Field("資格開始日", "日付", lambda r: letter_padded(r["start"]), "和暦（R06.04.01）。手帳は交付日"),
            Field(
                "資格終了日",
                "日付",
                lambda r: letter_padded(r["end"]),
                "和暦（R06.04.01）。受給者証は有効期限。手帳は空欄",
            ),
            Field("作成日", "日付", lambda r: ymd(r["ex"]), "西暦8桁"),
        ],
    )
    write_delimited(out / f"SHOGAI_SHIKAKU_{ym}.csv", doc, rows)
    delivery.add("fukushi", doc, CODES)

    doc = FileDoc(
        "介護認定_<年月>.tsv",
        "要介護・要支援認定者一覧（有効な認定）",
        "TSV",
        "UTF-8（BOM付き）",
        [
            Field("被保険者番号", "数字", lambda r: f"0{int(r['atena_no'][-9:]):09d}", "介護保険の被保険者番号"),
            Field("宛名番号", "数字", lambda r: r["atena_no"], "", width=10),
            Field("要介護状態区分", "コード", lambda r: CARE[r["care_level"]], "全角数字", "要介護状態区分", 1),
            Field("認定年月日", "日付", lambda r: slash(r["certified_on"]), "西暦（2024/4/1）"),
            Field("有効期間終了日", "日付", lambda r: slash(r["valid_to"]), "西暦（2024/4/1）"),
            Field("出力日", "日付", lambda r: slash(r["extracted_on"]), "西暦（2024/4/1）"),
        ],
        delimiter="タブ",
    )
    write_delimited(out / f"介護認定_{ym}.tsv", doc, t["要介護認定.csv"])
    delivery.add("fukushi", doc, CODES)

    sh = t["生活保護.csv"]
    member_no: dict[str, int] = {}

    def member(r):
        member_no[r["case_no"]] = member_no.get(r["case_no"], 0) + 1
        return f"{member_no[r['case_no']]:02d}"

    doc = FileDoc(
        "生活保護_世帯員_<年月>.csv",
        "生活保護 被保護世帯員一覧（廃止後1年以内を含む）",
        "CSV",
        "Shift_JIS（CP932）",
        [
            Field("ケース番号", "英数字", lambda r: r["case_no"], ""),
            Field("世帯員番号", "数字", member, "ケース内の連番"),
            Field("宛名番号", "数字", lambda r: r["atena_no"], "", width=10),
            Field("保護開始日", "日付", lambda r: xl(r["started_on"]), "Excel の日付シリアル値"),
            Field("保護廃止日", "日付", lambda r: xl(r["ended_on"]), "Excel の日付シリアル値。保護中は空欄"),
            Field("出力日", "日付", lambda r: xl(r["extracted_on"]), "Excel の日付シリアル値"),
        ],
        header_row=4,
        data_row=5,
        trailer_rows=1,
        notes=["1〜2行目は表題、3行目は空行", "最終行は件数（以上　n件）"],
    )
    _, _, y = era(m)
    write_delimited(
        out / f"生活保護_世帯員_{ym}.csv",
        doc,
        sh,
        title=["生活保護　被保護世帯員一覧", f"（令和{y}年{m.month}月分）", ""],
        trailer=[f"以上　{len(sh)}件"],
    )
    delivery.add("fukushi", doc, CODES)

    doc = FileDoc(
        "福祉相談_<年月>.csv",
        "福祉総合相談 受付記録（過去5年分）",
        "CSV",
        "Shift_JIS（CP932）",
        [
            Field("相談番号", "英数字", lambda r: r["consultation_no"], ""),
            Field("宛名番号", "数字", lambda r: blank(r["atena_no"]), "相談対象者。世帯の相談は空欄"),
            Field("世帯番号", "英数字", lambda r: blank(r["setai_no"]), "空欄のことがある"),
            Field("相談年月日", "日付", lambda r: kanji_abbr(r["consulted_on"]), "和暦（令6.4.1）"),
            Field("相談分野", "コード", lambda r: FIELDS[r["field"]], "", "相談分野コード", 1),
            Field("相談種別", "コード", lambda r: F_KIND[r["kind"]], "", "福祉相談種別", 2),
            Field("出力年月日", "日付", lambda r: kanji_abbr(r["extracted_on"]), "和暦（令6.4.1）"),
        ],
    )
    write_delimited(out / f"福祉相談_{ym}.csv", doc, t["相談記録.csv"])
    delivery.add("fukushi", doc, CODES)


def _gakko(t, out: Path, ym: str, m: date, delivery: Delivery):
    reg = t["学齢簿.csv"]
    fields = [
        Field("個人コード", "英数字", lambda r: r["student_no"], "児童生徒ごと。中学校入学時に振り直す"),
        Field("宛名番号", "数字", lambda r: blank(r["atena_no"]), "住民記録と連携できない児童生徒は空欄"),
        Field("氏名", "文字", lambda r: r["name"], "氏と名の間に全角スペース"),
        Field("氏名カナ", "文字", lambda r: r["name_kana"], "カタカナ（半角のことがある）"),
        Field("生年月日", "日付", lambda r: slash(r["birth_date"]), "西暦（2015/4/1）"),
        Field("性別", "コード", lambda r: "M" if r["sex"] == "1" else "F", "", "性別区分", 1),
        Field("現住所", "文字", lambda r: r["address"], ""),
        Field("学校コード", "コード", lambda r: SCHOOL[r["school"]], "在籍校", "学校コード", 3),
        Field("学年", "数字", lambda r: r["grade"], "小学校1〜6、中学校1〜3"),
        Field("学級種別", "コード", lambda r: "2" if r["in_special_needs_class"] else "1", "", "学級種別", 1),
        Field("作成日", "日付", lambda r: ymd(r["extracted_on"]), "西暦8桁"),
    ]
    for level, label, prefix in (
        ("小学校", "小学校 学齢簿（1〜6年）", "E"),
        ("中学校", "中学校 学齢簿（1〜3年）", "J"),
    ):
        doc = FileDoc(f"学齢簿_{level}_<年月>.csv", label, "CSV", "Shift_JIS（CP932）", fields)
        write_delimited(out / f"学齢簿_{level}_{ym}.csv", doc, [r for r in reg if r["student_no"].startswith(prefix)])
        delivery.add("gakko", doc, CODES)

    from openpyxl import Workbook

    att = t["出欠.xlsx"]
    ex = att[0]["extracted_on"] if att else None
    fields = [
        Field("学校名", "文字", lambda r: r["school"], ""),
        Field("学年", "数字", lambda r: r["grade"], ""),
        Field("組", "文字", lambda r: r["class"], ""),
        Field("個人コード", "英数字", lambda r: r["student_no"] or None, "未登録の児童生徒は空欄"),
        Field("氏名", "文字", lambda r: r["name"], ""),
        Field("生年月日", "日付", lambda r: r["birth_date"], "日付セル"),
        Field("欠席日数_年度累計", "数値", lambda r: r["absence_days_ytd"], "4月1日から"),
        Field("欠席日数_前年度", "数値", lambda r: r["absence_days_last_year"], "前年度に在籍しなかった児童生徒は空欄"),
        Field("遅刻早退_年度累計", "数値", lambda r: r["late_or_early_ytd"], "回数"),
        Field("基準日", "日付", lambda r: r["extracted_on"], "日付セル。集計した日"),
    ]
    doc = FileDoc(
        "出欠状況_<年月>.xlsx",
        "児童生徒 出欠状況一覧（全校）",
        "Excel",
        "（xlsx）",
        fields,
        header_row=2,
        data_row=4,
        sheet="出欠一覧（2枚目のシート）",
        notes=["1枚目のシート「表紙」は帳票の表紙", "1行目は表題、3行目は単位"],
    )
    wb = Workbook()
    cover = wb.active
    cover.title = "表紙"
    cover.append(["児童生徒出欠状況"])
    cover.append([f"{m.year}年{m.month}月末現在"])
    cover.append(["作成日", ex])
    ws = wb.create_sheet("出欠一覧")
    ws.append(["出欠状況一覧（年度累計）"])
    ws.append([f.name for f in fields])
    ws.append(["", "", "", "", "", "", "（日）", "（日）", "（回）", ""])
    for r in att:
        ws.append([f.get(r) for f in fields])
    for row in ws.iter_rows(min_row=4):
        for c in row:
            if isinstance(c.value, date):
                c.number_format = "ggge年m月d日" if c.column == 6 else "yyyy/mm/dd"
    out.mkdir(parents=True, exist_ok=True)
    wb.save(out / f"出欠状況_{ym}.xlsx")
    delivery.add("gakko", doc, CODES)

    doc = FileDoc(
        "学校健診_<年月>.csv",
        "児童生徒定期健康診断 結果（最新の年度）",
        "CSV",
        "UTF-8（BOM付き）",
        [
            Field("学校名", "文字", lambda r: r["school"], "受診した学校"),
            Field("氏名", "文字", lambda r: r["name"], ""),
            Field(
                "生年月日", "日付", lambda r: wareki_kanji(r["birth_date"]), "和暦（平成27年4月1日、元年は「元年」）"
            ),
            Field("健診実施日", "日付", lambda r: wareki_kanji(r["examined_on"]), "和暦（同上）"),
            Field("精密検査", "コード", lambda r: "1" if r["needs_referral"] else "0", "", "精密検査区分", 1),
            Field("う歯数（DMF）", "数値", lambda r: r["caries_count"], "未処置・処置済みの合計"),
            Field("作成日", "日付", lambda r: wareki_kanji(r["extracted_on"]), "和暦（同上）"),
        ],
    )
    write_delimited(out / f"学校健診_{ym}.csv", doc, t["学校健診.csv"])
    delivery.add("gakko", doc, CODES)

    doc = FileDoc(
        "就学援助_<年月>.csv",
        "就学援助 認定者一覧（今年度・前年度）",
        "CSV",
        "Shift_JIS（CP932）",
        [
            Field("個人コード", "英数字", lambda r: r["student_no"], ""),
            Field("氏名", "文字", lambda r: r["name"], ""),
            Field("生年月日", "日付", lambda r: ymd(r["birth_date"]), "西暦8桁"),
            Field("年度", "数字", lambda r: r["fiscal_year"], "認定した年度（西暦4桁、4月始まり）"),
            Field(
                "援助区分",
                "コード",
                lambda r: "1" if _h("aid", r["student_no"], r["fiscal_year"]) < 0.1 else "2",
                "",
                "援助区分",
                1,
            ),
            Field("作成日", "日付", lambda r: ymd(r["extracted_on"]), "西暦8桁"),
        ],
    )
    write_delimited(out / f"就学援助_{ym}.csv", doc, t["就学援助.csv"])
    delivery.add("gakko", doc, CODES)

    lunch = t["給食費.csv"]
    doc = FileDoc(
        "給食費滞納_<年月>.csv",
        "学校給食費 滞納者一覧（月末時点）",
        "CSV",
        "Shift_JIS（CP932）",
        [
            Field("個人コード", "英数字", lambda r: r["student_no"], ""),
            Field("氏名", "文字", lambda r: r["name"], ""),
            Field("生年月日", "日付", lambda r: wareki_dot(r["birth_date"]), "和暦（H27.4.1）"),
            Field("学校名", "文字", lambda r: r["school"], ""),
            Field("滞納月数", "数値", lambda r: r["months_in_arrears"], "前年度からの繰越分を含む"),
            Field("作成日", "日付", lambda r: slash(r["extracted_on"]), "西暦（2024/4/1）"),
        ],
        header_row=2,
        data_row=3,
        trailer_rows=1,
        notes=["1行目は表題", "最終行は合計行"],
    )
    write_delimited(
        out / f"給食費滞納_{ym}.csv",
        doc,
        lunch,
        title=[f"学校給食費　滞納者一覧（{m.year}年{m.month}月末）"],
        trailer=[f"合計,{len(lunch)}人,,,{sum(r['months_in_arrears'] for r in lunch)},"],
    )
    delivery.add("gakko", doc, CODES)


# ---- the documents ----------------------------------------------------------------------------------------
README = """しおかぜ町　各課システムの月次出力ファイル（こども見守りデータ連携用）

月ごとのフォルダ（YYYY-MM）の下に、課ごとのフォルダがあります。
各課のファイル仕様・レイアウト定義書・コード表は docs フォルダにあります。

{body}
"""


def write_docs(vendor_dir: Path, delivery: Delivery, readme: bool = True, departments: dict | None = None):
    """README.txt and docs/ファイル一覧_<課>.csv, レイアウト定義書_<課>.csv, コード表_<課>.csv (CP932)."""
    departments = departments or DEPARTMENTS
    if readme:
        _readme(vendor_dir, delivery, departments)
    docs = vendor_dir / "docs"
    for source, (dept, _system) in departments.items():
        files = delivery.files.get(source, [])
        write_text(docs / f"ファイル一覧_{dept}.csv", _file_list(files), "cp932")
        write_text(docs / f"レイアウト定義書_{dept}.csv", _layouts(files), "cp932")
        write_text(docs / f"コード表_{dept}.csv", _code_tables(delivery.codes.get(source, {})), "cp932")


def _readme(vendor_dir: Path, delivery: Delivery, departments: dict):
    body = []
    for source, (dept, system) in departments.items():
        body.append(f"{source + '/':<14} {system}（{dept}）")
        for d in delivery.files.get(source, []):
            body.append(f"  {d.name:<32} {d.title}")
        body.append("")
    write_text(vendor_dir / "README.txt", README.format(body="\n".join(body)).replace("\n", "\r\n"), "cp932")


def _csv(rows: list[list]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


def _file_list(files: list[FileDoc]) -> str:
    rows = [
        [
            "ファイル名",
            "内容",
            "形式",
            "文字コード",
            "区切り文字",
            "シート",
            "項目名の行",
            "データ開始行",
            "末尾の集計行数",
            "レコード長（バイト）",
            "備考",
        ]
    ]
    for d in files:
        rows.append(
            [
                d.name,
                d.title,
                d.form,
                d.encoding,
                {"CSV": "カンマ", "TSV": "タブ"}.get(d.form, ""),
                d.sheet,
                d.header_row if d.header_row else "なし",
                d.data_row,
                d.trailer_rows,
                d.record_length or "",
                "／".join(d.notes),
            ]
        )
    return _csv(rows)


def _layouts(files: list[FileDoc]) -> str:
    rows = [["ファイル名", "レコード区分", "項番", "項目名", "型", "桁数（バイト）", "開始位置", "コード表", "備考"]]
    for d in files:
        for mark, what in d.records:
            if mark != d.data_mark:
                rows.append([d.name, mark, "", "", "", "", "", "", what])
        pos = 1
        for n, f in enumerate(d.fields, 1):
            start = pos if d.form == "固定長" else ""
            pos += f.width or 0
            rows.append(
                [
                    d.name,
                    d.data_mark,
                    n,
                    f.name,
                    f.kind,
                    f.width or "",
                    start,
                    f.code or "",
                    f.note,
                ]
            )
    return _csv(rows)


def _code_tables(tables: dict[str, list[tuple[str, ...]]]) -> str:
    rows = [["コード表名", "コード", "内容", "備考"]]
    for name, pairs in tables.items():
        rows += [[name, *row, *[""] * (3 - len(row))] for row in pairs]
    return _csv(rows)
