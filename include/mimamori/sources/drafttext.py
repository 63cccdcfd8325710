"""The draft mapping's text and the profile's screen report (``bin/mimamori sources profile``).

Both say what was found by counts and shapes; the only values they carry are code values the
safe rule lets through (:meth:`mimamori.sources.profile.ColumnProfile.shown_codes`), the header
names, and the letters that mark a fixed-width file's header/trailer records (HDR, TRL).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

from mimamori.ingest.registry import ColumnSpec, FileSpec, Source
from mimamori.sources.dates import STYLE_JA, YEAR_JA
from mimamori.sources.draft import (
    SHAPE_ONLY,
    Assign,
    Match,
    arrange,
    code_partner,
    confidence,
    contract_values,
    found,
    known_values,
    match,
    personal,
    positions,
    q,
    supported,
    width_form,
)
from mimamori.sources.pairs import draft_pair_column
from mimamori.sources.profile import FORMAT_PREFIX, ColumnProfile, FileProfile, style_label, style_yaml, swapped

KIND_JA = {
    "id": "番号",
    "code": "コード",
    "integer": "整数",
    "text": "文字",
    "kana": "カナ",
    "date": "日付",
    "month": "年月",
    "blank": "すべて空欄",
}
ENCODING_JA = {
    "cp932": "Shift_JIS（CP932）",
    "utf-8": "UTF-8（BOMなし）",
    "utf-8-sig": "UTF-8（BOM付き）",
    "xlsx": "Excel（xlsx）",
    "unknown": "不明",
}
TODO = "TODO"
_PLAIN = re.compile(r"[^\W\d][\w・ー（）]*")


def plain(value: str) -> str:
    return value if _PLAIN.fullmatch(value) else q(value)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class Lines(list):
    def add(self, text: str, comment: str = "") -> None:
        self.append(f"{text}{' ' * max(2, 46 - _width(text))}# {comment}" if comment else text)


def input_names(profiles: list[FileProfile]) -> dict[str, str]:
    """File name → input name: the file's stem without its date digits."""
    out: dict[str, str] = {}
    for p in profiles:
        stem = unicodedata.normalize("NFC", p.path.stem)
        stem = stem.replace(p.file_date, "") if p.file_date else stem
        base = re.sub(r"[_\-]?\d{6,8}", "", stem).strip("_-") or "input"
        name, n = base, 2
        while name in out.values():
            name, n = f"{base}{n}", n + 1
        out[p.name] = name
    return out


def file_pattern(p: FileProfile) -> str:
    return p.name.replace(p.name_period, "*") if p.name_period else p.name


def name_regex(p: FileProfile) -> str:
    form = p.file_date_form
    rest = p.name.split(form[0], 1)[1] if form else ""
    return (form[2] if form else "(\\d{8})") + re.escape(rest) + "$"


def name_date_style(p: FileProfile) -> str:
    form = p.file_date_form
    return form[1] if form else "yyyymmdd"


def field_names(p: FileProfile, matches: list[Match]) -> dict[int, str]:
    """Fixed width: field position → its name in the layout (the layout document's, else the contract header it was
    matched to)."""
    if p.layout_doc:
        return {c.position: c.header or f"項目{c.position}" for c in p.columns}
    names: dict[int, str] = {}
    for m in matches:
        for a in m.assigns:
            if a.source is not None and not a.source.parts and a.source.position not in names:
                names[a.source.position] = a.column.header
    return {c.position: names.get(c.position, f"{'予備' if c.filler else '項目'}{c.position}") for c in p.columns}


def ref(p: FileProfile, prof: ColumnProfile, names: dict[int, str]) -> str:
    if p.format == "fixed":
        return plain(names[prof.position])
    if not p.header or not prof.named_once:  # a header of several rows: a name twice, or only in the parent row
        return str(prof.position)
    return plain(prof.header or "")


def _header_note(p: FileProfile, prof: ColumnProfile) -> str:
    """A column of a header of several rows drafted by its position: which header it is."""
    if p.format == "fixed" or not p.header or prof.named_once:
        return ""
    name = f"「{prof.parent}」の「{prof.header}」" if prof.parent else f"「{prof.header}」"
    return f"{prof.position}列目は見出し{name}（見出しの行で名前が1つに決まらないため番号で指定） · "


# --------------------------------------------------------------------------- inputs


def _input(lines: Lines, name: str, p: FileProfile, names: dict[int, str]) -> None:
    lines.add(f"  - name: {plain(name)}", f"{p.name}: {p.records}行、{len(p.columns)}列")
    pattern = file_pattern(p)
    if p.file_date:
        why = f"ファイル名の日付（{STYLE_JA[name_date_style(p)]}）を * にしました"
    elif p.name_period:
        why = "ファイル名の年月（6桁）を * にしました"
    else:
        why = "ファイル名そのまま（年月・日付が見つかりません。毎月名前の変わる部分があれば * にする）"
    lines.add(f"    files: {q(pattern)}", why)
    lines.add(f"    format: {p.format}", _format_note(p))
    enc = "utf-8" if p.encoding == "utf-8-sig" else ("cp932" if p.encoding == "utf-8" and p.ascii_only else p.encoding)
    if p.format != "xlsx":
        lines.add(f"    encoding: {enc}", f"判定: {ENCODING_JA.get(p.encoding, p.encoding)}" + _ascii_note(p))
    elif p.sheets > 1:
        lines.add(f"    sheet: {p.sheet}", f"{p.sheet}枚目のシート（全{p.sheets}枚。表のあるシートを調べました）")
    if p.format == "fixed":
        _fixed(lines, p, names)
        return
    skips = []
    if p.header:
        row = p.rows_above + 1
        titles = p.title_lines - p.parent_lines
        above = f"、その上に表題など{titles}行" if titles else ""
        if p.parent_lines:
            above += (
                f"、その上に親見出し{p.parent_lines}行（見出しが{p.parent_lines + 1}行: 列はこの行の名前で指定し、"
                "同じ名前が2つある列や親見出しだけにある列は番号で指定。上の行は読みません）"
            )
        above += f"（空行を含めて{p.rows_above}行）" if p.rows_above != p.title_lines else ""
        lines.add(f"    header: {row}", f"見出し行（信頼度 {p.header_confidence}）{above}")
        if p.rows_under_header:
            skips.append(
                (
                    f"{{first: {p.rows_under_header}}}",
                    f"{TODO} 確認: 見出しのすぐ下の行はデータでないと見ました（数字・日付の列に文字: 単位の行・"
                    "見出しの2行目など）。データの行なら消す。first は見出しの次の行から数えます",
                )
            )
    else:
        if p.layout_doc:
            why = f"見出し行なし: 列は番号（1, 2, …）で指定。列の名前はレイアウト表 {p.layout_doc} の順番から"
        else:
            why = f"見出し行なし（信頼度 {p.header_confidence}）: 列は番号（1, 2, …）で指定"
            if p.header_confidence == "低":
                why = (
                    f"{TODO} 確認: 1行目は数字・日付の列に文字があり見出しのようですが、見出しとして読めません"
                    "（空欄や同じ名前がある）。見出しの行なら header: に行番号を書き、列を名前で書き直す · " + why
                )
        lines.add("    header: none", why)
        if p.rows_above:
            skips.append((f"{{first: {p.rows_above}}}", "表題など（列の数がデータと違う。空行も数えます）"))
    if p.rows_below:
        skips.append((f"{{last: {p.rows_below}}}", "末尾の合計行など（列の数や形がデータと違う。間の空行も数えます）"))
    if skips:
        lines.add("    skip:")
        for text, why in skips:
            lines.add(f"      - {text}", why)


def _ascii_note(p: FileProfile) -> str:
    return "（英数字だけのファイル: cp932 でも utf-8 でも読めます）" if p.encoding == "utf-8" and p.ascii_only else ""


def _format_note(p: FileProfile) -> str:
    if p.format == "fixed":
        return f"固定長: 1レコード {p.line_length}{'バイト' if p.units == 'bytes' else '文字'}（{p.records}件）"
    if p.format == "tsv":
        return "タブ区切り"
    if p.format == "csv":
        return "カンマ区切り"
    return f"Excel（{p.sheet}枚目のシート、全{p.sheets}枚）" if p.sheets > 1 else "Excel"


def _fixed(lines: Lines, p: FileProfile, names: dict[int, str]) -> None:
    unit = "バイト（CP932 の全角は2）" if p.units == "bytes" else "文字"
    unit = {"bytes": unit, "chars": "文字", "width": "桁（全角は2）"}[p.units]
    if p.layout_doc:
        lines.add(f"    units: {p.units}", f"位置の数え方: {unit}（レイアウト表 {p.layout_doc} から）")
    else:
        lines.add(f"    units: {p.units}", f"位置の数え方: {unit}。ベンダーのレイアウト表と同じ数え方にしてください")
    lines.add(f"    line_length: {p.line_length}")
    if p.record_marks:
        lines.add("    skip:")
        for where, mark in p.record_marks:
            what = "先頭のヘッダレコード" if where == "first" else "末尾のトレーラレコード（件数など）"
            lines.add(f"      - line_matches: '^{mark}'", what)
    if p.layout_doc:
        lines.add("    layout:", f"レイアウト表 {p.layout_doc} のとおり（位置は1から数えています）")
        for c in p.columns:
            lines.add(
                f"      - {{name: {plain(names[c.position])}, start: {c.start}, length: {c.end - c.start + 1}}}",
                f"{c.doc_row}行目 · {_shape(c)}",
            )
        return
    lines.add("    layout:", "境界は値の並びからの推定です。レイアウト表と照らして確かめてください")
    for i, c in enumerate(p.columns):
        nxt = p.columns[i + 1].boundary if i + 1 < len(p.columns) else "高"
        sure = "高" if c.boundary == nxt == "高" else ("低" if "低" in (c.boundary, nxt) else "中")
        what = "この項目か" if names[c.position].startswith(("項目", "予備")) else f"「{names[c.position]}」の項目か"
        if c.filler:
            what = "埋め草（予備。どの行も空白か 0）か"
        note = f"{TODO} 確認: 位置・長さと、{what}をレイアウト表で確かめる · 境界の信頼度 {sure} · {_shape(c)}"
        lines.add(
            f"      - {{name: {plain(names[c.position])}, start: {c.start}, length: {c.end - c.start + 1}}}", note
        )


def _shape(c: ColumnProfile) -> str:
    out = KIND_JA[c.kind]
    if c.date_style:
        out += f"（{style_label(c.date_style)}）"
    elif c.kind == "date":
        out += "（書き方が混在）"
    elif c.year_style:
        out += f"（{STYLE_JA[c.year_style]}）"
    elif c.pair:
        out += "（コード＋名称）"
    if c.blanks:
        out += f"、空欄{c.blanks}件"
    return out


# --------------------------------------------------------------------------- outputs


def _codes(lines: Lines, pad: str, a: Assign) -> None:
    col, prof = a.column, a.source
    targets = _targets(col)
    shown = prof.shown_codes(personal=personal(col), code_column=True)
    if shown is None:
        why = (
            f"{prof.distinct}種類"
            + ("以上" if prof.overflow else "")
            + "。値は表示しません（表示の決まり: docs/onboarding.md）"
        )
        lines.add(
            f"{pad}  codes: {{}}",
            f"{TODO} {why}。元のシステムのコード表から {{元の値: 契約の値}} を書く（契約の値: {targets}）",
        )
    else:
        lines.add(f"{pad}  codes:", f"届いた値 {len(shown)}種類。それぞれに契約の値（{targets}）を書く")
        for v in shown:
            lines.add(f"{pad}    {q(v)}:", f"{TODO} 契約の値を書く")
    if prof.blanks and (col.required or col.base_type == "flag"):
        lines.add(f'{pad}  blank: ""', f"{TODO} 空欄（{prof.blanks}件）のときの契約の値（{targets}）を書く")


def _table_codes(lines: Lines, pad: str, a: Assign, m: Match) -> None:
    """The code map from the department's code table (``profile --codes``): the table's codes and labels only; a
    delivered value the table lacks is shown only where :meth:`ColumnProfile.shown_codes` shows the column's codes."""
    col, prof, p = a.column, a.source, a.codes
    where = f"コード表「{p.table.name}」（{p.table.where()}）"
    if p.by_values:
        head = f"{TODO} 確認: 見出しが表の名前に合わず、値がすべてコードにある{where}から。この表か確かめる"
    elif p.text:
        head = f"{TODO} 確認: {where}の内容をそのまま書きました。契約の「{col.header}」に入れる言葉か確かめる"
    else:
        head = f"{where}から。契約の値（{_targets(col)}）に合わないコードには印（ＴＯＤＯ）"
    lines.add(f"{pad}  codes:", head)
    elsewhere = set()
    if m.split_codes is not None and m.split_on is a.source:  # the split column itself: its other files' codes
        sc = m.split_codes
        mine = {c for c, _ in sc.codes} | {c for c, _ in sc.unassigned}
        elsewhere = {ln.code for ln in p.lines} - mine
        if elsewhere:
            lines.append(f"{pad}    # {'・'.join(sorted(elsewhere))} は where で別の契約ファイルの行です（書きません）")
    for ln in p.lines:
        if ln.code in elsewhere:
            continue
        lines.add(f"{pad}    {q(ln.code)}: {plain(ln.target) if ln.target else q('')}", ln.note)
    for v in p.missing_shown:
        lines.add(
            f'{pad}    {q(v)}: ""',
            f"{TODO} 届いた値ですがコード表「{p.table.name}」にありません。課に確かめて契約の値を書く",
        )
    if p.missing and not p.missing_shown:
        lines.append(
            f"{pad}    # {TODO} 届いた値のうち {p.missing}種類がコード表「{p.table.name}」にありません（値は表示しません。"
            "表示の決まり: docs/onboarding.md）。課に確かめて書く"
        )
    if p.unsure_all:
        lines.append(
            f"{pad}    # {TODO} 届いた値の種類が多く、すべてがコード表にあるか確かめられません。check で確かめる"
        )
    if p.blank is not None and p.blank.target and p.text:
        lines.add(
            f'{pad}  blank: ""',
            f"{TODO} コード表の空欄: {p.blank.note}。書くなら契約の言葉で。空欄のままならこの行を消す",
        )
    elif p.blank is not None and p.blank.target:
        lines.add(f"{pad}  blank: {plain(p.blank.target)}", f"コード表の空欄: {p.blank.note}")
    elif p.blank is not None:
        lines.add(f'{pad}  blank: ""', p.blank.note)
    elif prof.blanks and (col.required or col.base_type == "flag"):
        lines.add(
            f'{pad}  blank: ""',
            f"{TODO} 空欄（{prof.blanks}件）のときの契約の値（{_targets(col)}）を書く（コード表に空欄の行がありません）",
        )


def _targets(col: ColumnSpec) -> str:
    if col.base_type == "flag":
        return "/".join(col.flag_labels)
    return "・".join(f"{c}={lab}" if c != lab else c for c, lab in col.codes.items())


def _column(lines: Lines, pad: str, m: Match, a: Assign, names: dict[int, str]) -> None:
    col, p = a.column, m.profile
    key = f"{pad}{plain(col.header)}:"
    if a.from_file_name:
        lines.add(
            f"{key} {{from_file_name: '{name_regex(p)}', date: {name_date_style(p)}}}",
            f"信頼度 {confidence(a.score)}: {a.why}",
        )
        return
    if a.source is None and col.base_type == "code" and col.required:
        _constant(lines, key, col, p)
        return
    if a.source is None:
        need = "必須" if col.required else "任意"
        text = f"{pad}# {TODO + ' ' if col.required else ''}{need}: {col.header}（{col.type}）に合う列が見つかりません"
        lines.append(
            f"{text}。from / constant / from_file_name のどれかで書く"
            if col.required
            else text + "（書かなければ空欄）"
        )
        return
    # no header: a guess from the order; a weak match by shape alone: a guess too (fixed width: its layout)
    guessed = (not p.header and p.format != "fixed" and not p.layout_doc) or a.score < 0.5
    note = f"{_header_note(p, a.source)}信頼度 {confidence(a.score)}: {a.why} · {_shape(a.source)}"
    if guessed and p.header and a.why.startswith(SHAPE_ONLY):
        note = (
            f"{TODO} 確認: 見出し「{a.source.header}」は{col.header}を指していません。値の形だけで当てた案です。"
            "課のレイアウト定義書で確かめ、違えばこの行を消す（必須なら constant などで書く） · " + note
        )
    elif guessed:
        note = f"{TODO} 確認: この列で正しいか確かめる · " + note
    if p.layout_doc and not p.header and p.format != "fixed":
        note = f"レイアウト表の「{a.source.header}」 · " + note
    src = ref(p, a.source, names)
    if a.source.parts:
        _joined(lines, key, p, a, names, note)
        return
    if a.source.pair and col.base_type in ("code", "flag", "text"):
        targets = _targets(col) if col.base_type in ("code", "flag") else ""
        draft_pair_column(lines, pad, key, src, col, a.source, note, targets, known_values(col))
        return
    if col.base_type in ("date", "date_end", "month"):
        style = a.source.date_style
        if style is None and a.source.kind == "date":
            note = (
                f"{TODO} 書き方が混在: 1つの列には1つの書き方しか書けません。元のシステムの出力を揃えてもらう · " + note
            )
        elif style is None and a.source.kind == "blank" and (style := _file_style(p)):
            note = f"空欄の列のため、同じファイルの日付の列の書き方（{style_label(style)}）を書いています · " + note
        elif style is None:
            note = f"{TODO} 日付の書き方を書く（値から判定できません） · " + note
        elif a.source.date_either:
            other = swapped(style)[len(FORMAT_PREFIX) :]
            note = (
                f"{TODO} 確認: 日と月のどちらが先か値から分かりません（どの値も12以下）。日が先なら "
                f'"{style[len(FORMAT_PREFIX) :]}"、月が先なら "{other}"。レイアウト定義書で確かめる · ' + note
            )
        lines.add(f"{key} {{from: {src}, date: {style_yaml(style) if style else q('')}}}", note)
    elif col.base_type == "int" and a.source.year_style:
        style = a.source.year_style
        lines.add(
            f"{key} {{from: {src}, year: {style}}}",
            f"{YEAR_JA[style]}を西暦の年に（R7 → 2025。年度は始まる年） · " + note,
        )
    elif a.codes is not None:
        lines.add(key, note)
        lines.add(f"{pad}  from: {src}")
        _table_codes(lines, pad, a, m)
    elif col.base_type in ("code", "flag") and not contract_values(col, a.source):
        lines.add(key, note)
        _code_from(lines, pad, m, a, src, names)
        _codes(lines, pad, a)
    elif _numeric_codes_for_words(col, a.source) and (m.spec.file, col.header) in numbers_as_text():
        lines.add(
            f"{key} {src}",
            f"値は数字（{a.source.distinct}種類）。契約のこの列は番号のまま（docs/contract/values.md） · " + note,
        )
    elif _numeric_codes_for_words(col, a.source):
        lines.add(key, f"{TODO} {_NUMERIC_CODES_NOTE.format(n=a.source.distinct)} · " + note)
        _code_from(lines, pad, m, a, src, names)
        lines.add(f"{pad}  codes: {{}}", f"{TODO} {{元の値: 内容}} をコード表から。コードのままでよければこの行を消す")
    elif form := width_form(col, a.source):
        lines.add(f"{key} {{from: {src}, normalize: {form}}}", _width_note(a.source, form) + note)
    else:
        lines.add(f"{key} {src}", note + ("（値はすべて契約の値）" if col.base_type in ("code", "flag") else ""))


def _width_note(prof: ColumnProfile, form: str) -> str:
    if form == "nfkc":
        return (
            f"{TODO} 確認: 全角の英数字がある値 {prof.wide_ascii}件、うち英数字の隣に全角スペース {prof.wide_space}件: "
            "契約の形（半角）に揃える。nfkc は全角スペースも半角にします。全角スペースを残すなら width · "
        )
    return f"全角の英数字がある値 {prof.wide_ascii}件: 契約の形（半角）に揃える（全角スペースはそのまま） · "


def _code_from(lines: Lines, pad: str, m: Match, a: Assign, src: str, names: dict[int, str]) -> None:
    """``from:`` of a code column — with the code next to it whose values depend on it (:func:`code_partner`), their
    join, for a person to confirm: the code table then gives the contract value of each pair."""
    partner = code_partner(m, a)
    if partner is None:
        lines.add(f"{pad}  from: {src}")
        return
    pair = sorted([a.source, partner], key=lambda c: c.position)
    lines.add(f"{pad}  from: [{', '.join(ref(m.profile, c, names) for c in pair)}]")
    lines.add(
        f'{pad}  join: ""',
        f"{TODO} 確認: 「{partner.label()}」の値は「{a.source.label()}」ごとに決まります（組み合わせ "
        f"{m.profile.pairs.get(pair[0].position, 0)}通り）。2つをつないだ値（例 コード2桁＋2桁）で契約の値を引く案。"
        "1つで足りるなら from を1つにして join の行を消す",
    )


def _joined(lines: Lines, key: str, p: FileProfile, a: Assign, names: dict[int, str], note: str) -> None:
    """One contract column from several adjacent fields (氏 + 名, 元号/年/月/日, 住所 + 方書): their join, to confirm."""
    parts = a.source.parts
    src = "[" + ", ".join(ref(p, c, names) for c in parts) + "]"
    how = f"join: {q(a.source.join)}" + (f", date: {a.source.date_style}" if a.source.date_style else "")
    if form := width_form(a.column, a.source):
        how, note = how + f", normalize: {form}", _width_note(a.source, form) + note
    said = (
        "何もはさまず" if not a.source.join else ("全角スペースをはさんで" if a.source.join == "\u3000" else "はさんで")
    )
    lines.add(
        f"{key} {{from: {src}, {how}}}",
        f"{TODO} 確認: {len(parts)}つの項目（{'・'.join(c.label() for c in parts)}）を{said}つなぎ1つにする案。"
        "レイアウト表で1つの値の分け方か確かめる · " + note,
    )


_NUMERIC_CODES_NOTE = (
    "値はすべて数字のコード（{n}種類）ですが、契約の列は文字です（列の形は docs/contract/values.md）。"
    "元のシステムのコード表から内容に置き換える（codes:）"
)

#: Contract text columns whose contract form is a bare number (組: 1, 2), beside docs/contract/values.md.
TEXT_FORMS = Path(__file__).resolve().parents[3] / "docs" / "contract" / "text_forms.csv"


@functools.cache
def numbers_as_text(path: Path = TEXT_FORMS) -> frozenset[tuple[str, str]]:
    """(contract file, header) of the text columns the contract fills with a number: numeric codes there are the
    contract's form, not codes to replace. Without the file, none (the draft then asks a person, the safe side)."""
    try:
        with path.open(encoding="utf-8", newline="") as f:
            return frozenset((r["file"], r["header"]) for r in csv.DictReader(f) if r.get("form") == "number")
    except OSError:
        return frozenset()


def _numeric_codes_for_words(col: ColumnSpec, prof: ColumnProfile) -> bool:
    """A contract text column (続柄: 子, 妻 …) fed by a column of a few numeric codes (01, 02 …): left as it is, the
    check passes and the marts carry the codes — a person must say what the codes mean."""
    return col.base_type == "text" and prof.kind == "code" and prof.rows > 0 and prof.digits == prof.rows


#: An age in a file name, abbreviated: 1Y6M, 3Y, 4M, 4ヶ月/4カ月, 1歳半 (not digits of a date: no digit before).
_AGE = re.compile(
    r"(?<!\d)(?:(\d{1,2})Y(?:(\d{1,2})M)?|(\d{1,2})M|(\d{1,2})[ヶケカヵか箇]月|(\d{1,2})歳半)", re.IGNORECASE
)


def _ages(stem: str) -> list[str]:
    """The ages a file name abbreviates, spelled as a contract value would be (1Y6M → 1歳6か月, 4M → 4か月, 1歳半 →
    1歳6か月)."""
    out = []
    for y, ym, m, kana_m, half in _AGE.findall(stem):
        if y:
            out.append(f"{int(y)}歳" + (f"{int(ym)}か月" if ym else ""))
        elif m or kana_m:
            months = int(m or kana_m)
            out.append(f"{months}か月")
            if months >= 12:  # 18M → 1歳6か月, 36M → 3歳
                out.append(f"{months // 12}歳" + (f"{months % 12}か月" if months % 12 else ""))
        else:
            out.append(f"{int(half)}歳6か月")
    return out


def _constant(lines: Lines, key: str, col: ColumnSpec, p: FileProfile) -> None:
    """A code column the file has not: one value per file (健診区分 of a checkup file) — from the file name when it
    holds exactly one of the contract's values, else a constant for a person to write."""
    stem = unicodedata.normalize("NFKC", p.path.stem)
    stem += "\n" + "\n".join(_ages(stem))
    named = {
        lab
        for code, lab in col.codes.items()
        for v in {code, lab}
        if len(v) >= 2 and unicodedata.normalize("NFKC", v) in stem
    }
    if len(named) == 1:
        value = named.pop()
        lines.add(
            f"{key} {{constant: {q(value)}}}",
            f"{TODO} 確認: ファイル名に「{value}」。このファイルの行はすべてこの値か確かめる",
        )
        return
    lines.add(
        f'{key} {{constant: ""}}',
        f"{TODO} 必須: {col.header}（{col.type}）に合う列がありません。ファイルごとに1つの値なら、契約の値（{_targets(col)}）を書く。"
        "そうでなければ from / from_file_name で書く",
    )


def _file_style(p: FileProfile) -> str | None:
    """The date style most of the file's dated columns are written in (for a column that is all blank)."""
    styles = Counter(c.date_style for c in p.columns if c.date_style)
    return styles.most_common(1)[0][0] if styles else None


def _where(lines: Lines, pad: str, m: Match, names: dict[int, str]) -> None:
    prof = m.split_on
    shown = prof.shown_codes()
    values = "・".join(shown) if shown else f"{prof.distinct}種類。値は表示しません"
    others = "、".join(s.file for s in m.together)
    if m.split_codes is not None:
        _where_from_table(lines, pad, m, ref(m.profile, prof, names), others)
        return
    lines.add(
        f'{pad}where: {{column: {ref(m.profile, prof, names)}, equals: ""}}',
        f"{TODO} 分け方: 「{prof.label()}」の値（{values}）のうち、この契約ファイルの行の値を書く（いくつかなら"
        f' in: ["…", "…"]。ほかは {others}。課のコード表で確かめる）',
    )


def _where_from_table(lines: Lines, pad: str, m: Match, column: str, others: str) -> None:
    """A split's ``where`` from the split column's code table: the codes whose labels name this contract file."""
    sc = m.split_codes
    codes = [c for c, _ in sc.codes]
    named = "、".join(f"{c}「{lab}」" for c, lab in sc.codes)
    rest = "、".join(f"{c}「{lab}」" for c, lab in sc.unassigned)
    cond = f"equals: {q(codes[0])}" if len(codes) == 1 else f"in: [{', '.join(q(c) for c in codes)}]"
    note = (
        f"{TODO} 確認: コード表「{sc.table.name}」（{sc.table.where()}）の内容が {m.spec.file} を指すコード: {named}。"
        f"ほかは {others}"
    )
    if rest:
        note += f"。どの契約ファイルか決められないコード: {rest}（当たるなら足す）"
    lines.add(f"{pad}where: {{column: {column}, {cond}}}", note)


#: A contract file no delivered file becomes that fits a merged file this close to the merge's own score (its
#: required ids found by header) may be what the file really is (児扶手 merged into ひとり親医療 by its columns,
#: while 児童扶養手当 was left without a file).
FREE_SHARE = 0.75


def _merge_doubt(m: Match, source: Source, free: list[FileSpec], alike: bool = False) -> str:
    """A TODO for one file of a merge that fills the contract file only partly (a column not found, or found by the
    shape of its values alone), that another contract file of the source fits with more of its columns found by
    header, or that a contract file no delivered file becomes fits nearly as well. Files of one export in parts
    (``alike``: the same headers) are asked only the last."""
    partly = [a.column.header for a in m.assigns if not a.from_file_name and (a.source is None or a.score < 0.5)]
    better = [
        o.spec.file
        for o in (match(m.profile, s) for s in source.files if s.file != m.spec.file)
        if found(o) > found(m) and supported(o, ids_only=True)
    ]
    if alike:
        partly, better = [], []
    unmade = [
        f"{o.spec.file}（一致度 {o.score:.2f}）"
        for o in (match(m.profile, s) for s in free)
        if o.score >= FREE_SHARE * m.score and supported(o, ids_only=True) and o.spec.file not in better
    ]
    if not partly and not better and not unmade:
        return ""
    why = []
    if partly:
        why.append(f"{'・'.join(partly)} は見出しで見つからない（値の形だけか、列なし）")
    if better:
        why.append(f"{'・'.join(better)} のほうがこのファイルの列を見出しで多く見つける")
    if unmade:
        why.append(f"どのファイルからも作っていない {'・'.join(unmade)} にもよく合う")
    return (
        f"{TODO} 確認: このファイルを {m.spec.file} に足す案ですが、{'。'.join(why)}。"
        "課のファイル一覧で、このファイルがどの契約ファイルになるか確かめる"
    )


def _output(
    lines: Lines, spec: FileSpec, parts: list[tuple[str, Match, dict[int, str]]], source: Source, free: list[FileSpec]
) -> None:
    score = max(m.score for _, m, _ in parts)
    moved = sorted({m.moved_from for _, m, _ in parts if m.moved_from})
    doubt = (
        f"{TODO} 確認: {'・'.join(name for name, m, _ in parts if m.moved_from)} は {'・'.join(moved)} にもっと合いますが、"
        "そちらには見出しでよく合う別のファイルがあるため、どのファイルからも作らない契約ファイルのこちらに当てました。"
        "課のファイル一覧で確かめる · "
        if moved
        else ""
    )
    lines.add(f"  - file: {spec.file}", f"{doubt}一致度 {score:.2f}（{confidence(score)}）")
    if len(parts) == 1:
        name, m, names = parts[0]
        lines.add(f"    from: {plain(name)}")
        if m.split_on is not None:
            _where(lines, "    ", m, names)
        lines.add("    columns:")
        for a in m.assigns:
            _column(lines, "      ", m, a, names)
        return
    weak = [name for name, m, _ in parts if not supported(m, ids_only=True)]
    if weak:
        low = min(m.score for _, m, _ in parts)
        lines.add(
            "    from:",
            f"{TODO} 確認: {len(parts)}つのファイルの行を足す案ですが、{'・'.join(weak)} は契約の必須の番号の列が"
            f"見出しで見つからず根拠が弱い（一致度 {low:.2f}（{confidence(min(low, 0.49))}））。違うなら外す",
        )
    else:
        lines.add("    from:", f"{len(parts)}つのファイルの行を足して1つの契約ファイルにします")
    alike = len({tuple(c.header for c in m.profile.columns) for _, m, _ in parts}) == 1  # one export in parts
    for name, m, names in parts:
        lines.add(f"      - input: {plain(name)}", _merge_doubt(m, source, free, alike))
        lines.add("        columns:")
        for a in m.assigns:
            _column(lines, "          ", m, a, names)


def render_draft(source: Source, matched: list[tuple[FileProfile, list[Match]]]) -> str:
    arrange(matched, source)
    names = input_names([p for p, _ in matched])
    lines = Lines(
        [
            f"# 対応表の下書き: {source.source}（{source.department}）。bin/mimamori sources profile が"
            f" {dt.date.today().isoformat()} に作成。",
            "# 手順は docs/onboarding.md。コメントに「ＴＯＤＯ」の印がある行は、人が確かめて直し、印を消してください。",
            "# 印が1つでも残っている間、bin/mimamori sources check は合格しません。",
            "# コメントの「信頼度」は推定の確からしさです（高 / 中 / 低）。ファイルの値そのものは書いていません。",
            f"source: {source.source}",
            "inputs:",
        ]
    )
    outputs: dict[str, list] = defaultdict(list)
    specs: dict[str, FileSpec] = {}
    for p, matches in matched:
        fields = field_names(p, matches)
        if not matches:
            lines.append(
                f"  # {TODO} {p.name}: どの契約ファイルにも合いませんでした。手で書くか、このファイルを外してください"
            )
            continue
        _input(lines, names[p.name], p, fields)
        for m in matches:
            outputs[m.spec.file].append((names[p.name], m, fields))
            specs[m.spec.file] = m.spec
    lines.append("outputs:")
    free = [spec for spec in source.files if spec.file not in outputs]
    for file, parts in outputs.items():
        _output(lines, specs[file], parts, source, free)
    for spec in source.files:
        if spec.file not in outputs:
            lines.append(_not_produced(spec, [p for p, _ in matched]))
    return "\n".join(lines) + "\n"


def _not_produced(spec: FileSpec, profiles: list[FileProfile]) -> str:
    """A contract file of the source no delivered file became: a TODO, never silence (``check`` fails until a person
    writes its output or says it is not delivered)."""
    near = max(((match(p, spec).score, p.name) for p in profiles), default=None)
    hint = f"いちばん近いのは {near[1]}（一致度 {near[0]:.2f}）。" if near and near[0] > 0 else ""
    return (
        f"  # {TODO} {spec.file}: 届いたファイルのどれからも作っていません。{hint}"
        "このファイルになる入力があれば outputs に書く（課のファイル一覧で確かめる）。"
        "届かない・契約どおりの形で別に届くなら、TODO を消してそう書く"
    )


# --------------------------------------------------------------------------- the screen report


def _column_report(c: ColumnProfile, where: dict[int, list[str]], p: FileProfile) -> str:
    label = f"{c.start}〜{c.end}" if p.format == "fixed" else c.label()
    distinct = "多数" if c.overflow else f"{c.distinct}種類"
    text = f"  {c.position:>3}. {label}: {_shape(c)}、{c.rows}件・{distinct}"
    mapped = where.get(c.position, [])
    shown = c.shown_codes(
        personal=any(m.startswith("!") for m in mapped), code_column=any(m.startswith("*") for m in mapped)
    )
    if shown is not None:
        text += f"、値: {' / '.join(shown)}"
    targets = [m.lstrip("!*") for m in mapped]
    return text + (f" → {'、'.join(targets)}" if targets else " → （対応なし）")


def _contract_layout(p: FileProfile, spec: FileSpec) -> bool:
    return p.header and p.name == spec.file and [c.header for c in p.columns] == spec.headers


def render_report(matched: list[tuple[FileProfile, list[Match]]]) -> str:
    """What each file looks like, by counts; never a value of a person."""
    out = []
    for p, matches in matched:
        out.append(f"■ {p.name}")
        out.append(f"  文字コード: {ENCODING_JA.get(p.encoding, p.encoding)}{_ascii_note(p)} · 形式: {_format_note(p)}")
        if p.format != "fixed":
            head = f"{p.rows_above + 1}行目（信頼度 {p.header_confidence}）" if p.header else "なし"
            parents = f"（うち親見出し {p.parent_lines}行）" if p.parent_lines else ""
            out.append(
                f"  見出し: {head} · 表題など: {p.title_lines}行{parents} · 末尾の合計行など: {p.trailer_lines}行"
            )
        else:
            marks = "、".join(f"{'先頭' if w == 'first' else '末尾'} {m}" for w, m in p.record_marks) or "なし"
            out.append(f"  ヘッダ・トレーラレコード: {marks}")
        out.append(
            f"  データ: {p.records}行 × {len(p.columns)}列" + (f"（列の数が違う行 {p.odd_rows}）" if p.odd_rows else "")
        )
        out.extend(f"  注意: {n}" for n in p.notes)
        if any(_contract_layout(p, m.spec) for m in matches):
            out.append(
                "  契約どおりの形です: このファイルには対応表は要りません（outputs から外せば契約の形で読みます）"
            )
        where: dict[int, list[str]] = defaultdict(list)
        for m in matches:
            for a in m.assigns:
                if a.source is not None:
                    mark = "!" if personal(a.column) else ("*" if a.column.base_type in ("code", "flag") else "")
                    for n in positions(a.source):
                        where[n].append(f"{mark}{m.spec.file} {a.column.header}（{confidence(a.score)}）")
        out.extend(_column_report(c, where, p) for c in p.columns)
        if not matches:
            out.append("  → どの契約ファイルにも合いませんでした / no contract file matches")
    return "\n".join(out) + "\n"
