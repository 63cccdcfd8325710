"""Fixed-width boundaries of an export never seen (issue 21, the independent town's trial): a digit record
type (1 header, 2 data, 9 trailer), 全角 fields padded with 全角 spaces, a one-digit code before a date."""

from __future__ import annotations

from mimamori.sources.drafttext import field_names
from mimamori.sources.scan import profile_file

NAMES = ["山田　花子", "佐々木　一", "林　次郎太", "長谷川　菜々"]
KANA = ["ヤマダ　ハナコ", "ササキ　ハジメ", "ハヤシ　ジロウタ", "ハセガワ　ナナ"]


def _line(text: str, width: int) -> str:
    """``text`` padded with 全角 spaces to ``width`` CP932 bytes."""
    return text + "　" * ((width - len(text.encode("cp932"))) // 2)


def test_record_type_digits_wide_padding_and_a_code_before_a_date(tmp_path):
    # 1 type | 2–11 id | 12–31 name (全角, 20 bytes) | 32–51 kana (20 bytes) | 52 flag | 53–60 date
    body = [
        "2"
        + f"{3100000000 + 7 * i:010d}"
        + _line(NAMES[i % 4], 20)
        + _line(KANA[i % 4], 20)
        + str(i % 2)
        + f"2026{1 + i % 12:02d}{1 + i % 28:02d}"
        for i in range(30)
    ]
    lines = ["1" + "20261101".ljust(59), *body, "9" + f"{len(body):010d}".ljust(59)]
    path = tmp_path / "JUKI202610.DAT"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    profile = profile_file(path, quiet=True)
    assert profile.format == "fixed" and profile.line_length == 60
    assert profile.record_marks == [("first", "1"), ("last", "9")] and profile.records == 30
    fields = [(c.start, c.end) for c in profile.columns]
    assert fields == [(1, 1), (2, 11), (12, 31), (32, 51), (52, 52), (53, 60)], fields
    assert profile.columns[-1].date_style == "yyyymmdd"


# --------------------------------------------------------------------------- gaps of issue 21 (stop-27): each a class

import random  # noqa: E402

import pytest  # noqa: E402

WIDE = ["山田", "佐々木", "林", "長谷川", "高橋", "伊藤"]  # synthetic, never printed


def _pad(text: str, width: int, encoding: str, fill: str = " ") -> str:
    """``text`` padded with ``fill`` to ``width`` positions as the vendor counts them (CP932 bytes or characters)."""
    size = (lambda s: len(s.encode("cp932"))) if encoding == "cp932" else len
    while size(text) + size(fill) <= width:
        text += fill
    return text + " " * (width - size(text))


def _profile(tmp_path, body: list[str], encoding: str):
    path = tmp_path / "VENDOR.DAT"
    path.write_bytes(("\r\n".join(body) + "\r\n").encode(encoding))
    profile = profile_file(path, quiet=True)
    assert profile.format == "fixed", profile.format
    return [(c.start, c.end) for c in profile.columns], profile


@pytest.mark.parametrize("encoding", ["cp932", "utf-8"])
@pytest.mark.parametrize(
    "codes",
    [
        [("12",), ("01",)],  # two 1-digit codes (性別, 支援措置)
        [("12",), ("01",), ("123",)],  # three
        [("12",), ("01", "02", "03", "04", "05", "06", "99")],  # a 1-digit code and a 2-digit code (性別, 続柄)
        [("ABC",), ("12",)],  # a letter code and a digit code
    ],
)
def test_adjacent_short_codes_are_separate_fields(tmp_path, encoding, codes):
    rng = random.Random(len(codes) * 7 + len(encoding))
    body = []
    for i in range(400):
        head = f"{4200000000 + 13 * i:010d}" + _pad(rng.choice(WIDE), 12, encoding, "　")
        parts = "".join(rng.choice(c[0] if len(c) == 1 else c) for c in codes)
        body.append(head + parts + f"20{rng.randrange(10, 26)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}")
    fields, profile = _profile(tmp_path, body, encoding)
    name_end = 22
    expect, at = [(1, 10), (11, name_end)], name_end + 1
    for c in codes:
        size = len(c[0]) if len(c) > 1 else 1
        expect.append((at, at + size - 1))
        at += size
    expect.append((at, at + 7))
    assert fields == expect, fields
    assert profile.columns[-1].date_style == "yyyymmdd"


def test_a_short_code_field_and_numbers_are_not_split(tmp_path):
    """The other side of the class: one 2-digit code (10/20/30/40; 12, 13, 21–25), a zero-padded amount and an age
    stay one field each."""
    rng = random.Random(3)
    care = ["12", "13", "21", "22", "23", "24", "25"]
    body = [
        f"{4200000000 + 13 * i:010d}"
        + rng.choice("有無")
        + rng.choice(["10", "20", "30", "40"])
        + rng.choice("有無")
        + rng.choice(care)
        + rng.choice("有無")
        + f"{rng.randrange(0, 300000):06d}"
        + rng.choice("有無")
        + f"{rng.randrange(0, 18):02d}"
        for i in range(400)
    ]
    fields, _ = _profile(tmp_path, body, "utf-8")
    assert fields == [(1, 10), (11, 11), (12, 13), (14, 14), (15, 16), (17, 17), (18, 23), (24, 24), (25, 26)], fields


@pytest.mark.parametrize("encoding", ["cp932", "utf-8"])
@pytest.mark.parametrize("prefix", ["H", "KJ", "S-", "Ｈ", "世"])
def test_an_id_with_a_letter_prefix_is_one_field(tmp_path, encoding, prefix):
    # 1–10 id | 11–22 name (全角) | the prefixed id (H0001234) | name (全角)
    width = len(prefix.encode("cp932")) if encoding == "cp932" else len(prefix)
    body = [
        f"{4200000000 + 13 * i:010d}"
        + _pad(WIDE[i % len(WIDE)], 12, encoding, "　")
        + prefix
        + f"{5000000 + 3 * i:07d}"
        + _pad(WIDE[(i + 1) % len(WIDE)], 12, encoding, "　")
        for i in range(300)
    ]
    fields, profile = _profile(tmp_path, body, encoding)
    end = 22 + width + 7
    assert fields == [(1, 10), (11, 22), (23, end), (end + 1, end + 12)], fields
    assert profile.columns[2].kind == "id"


@pytest.mark.parametrize("encoding", ["cp932", "utf-8"])
@pytest.mark.parametrize("fill", [" ", "0", "　"])
@pytest.mark.parametrize("after", ["wide", "digits", "code"])
def test_an_id_and_its_filler_are_two_fields(tmp_path, encoding, fill, after):
    """An id of a fixed length in a wider field: the id, then its filler (spaces, zeros, 全角 spaces) on its own."""
    if fill == "0" and after in ("digits", "code"):
        pytest.skip("zeros before a number are that number's padding: no file can tell them from a filler")
    rng = random.Random(11)
    nxt = {
        "wide": lambda i: _pad(WIDE[i % len(WIDE)], 12, encoding, "　"),
        "digits": lambda i: f"{rng.randrange(1, 9)}{rng.randrange(0, 10**11):011d}",
        "code": lambda i: rng.choice("123") + " " * 11,
    }[after]
    body = [f"{4200000000 + 13 * i:010d}" + _pad("", 6, encoding, fill) + nxt(i) for i in range(300)]
    fields, profile = _profile(tmp_path, body, encoding)
    assert fields[:2] == [(1, 10), (11, 16)], fields
    assert profile.columns[1].filler and not profile.columns[0].filler
    assert field_names(profile, [])[2] == "予備2"  # the draft names it so, and matches it to no contract column


def test_a_one_digit_code_before_a_zero_led_code_that_depends_on_it(tmp_path):
    """性別 1/2 then 続柄 01–04 where 妻 (02) comes only with 2, as in a real 住民記録: not independent, still two."""
    rng = random.Random(5)
    body = []
    for i in range(400):
        sex = rng.choice("12")
        rel = rng.choice(["01", "03", "04"] + (["02"] if sex == "2" else []))
        body.append(
            f"{4200000000 + 13 * i:010d}" + _pad(rng.choice(WIDE), 12, "cp932", "　") + sex + rel + rng.choice("01")
        )
    fields, _ = _profile(tmp_path, body, "cp932")
    assert fields == [(1, 10), (11, 22), (23, 23), (24, 25), (26, 26)], fields


@pytest.mark.parametrize(("head", "data", "tail"), [("10", "20", "90"), ("H1", "D1", "T1"), ("001", "002", "009")])
def test_a_record_type_of_several_characters_is_one_field(tmp_path, head, data, tail):
    """Record types 10/20/90 (the layout-b trial): the type is the whole constant prefix the header and trailer share
    with the data but for its first character — not the first character alone, which shifted every boundary."""
    k = len(data)
    body = [
        data
        + f"{3100000000 + 7 * i:010d}"  # an id whose leading digits are constant too (31…)
        + _line(NAMES[i % 4], 20)
        + str(1 + i % 2)
        + f"2026{1 + i % 12:02d}{1 + i % 28:02d}"
        for i in range(30)
    ]
    width = k + 39
    lines = [head + "20261101".ljust(width - k), *body, tail + f"{len(body):010d}".ljust(width - k)]
    path = tmp_path / "YB202610.TXT"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    profile = profile_file(path, quiet=True)
    assert profile.format == "fixed" and profile.line_length == width and profile.records == 30
    assert profile.record_marks == [("first", head), ("last", tail)]
    fields = [(c.start, c.end) for c in profile.columns]
    assert fields[:3] == [(1, k), (k + 1, k + 10), (k + 11, k + 30)], fields
    # the layout-document path reads the same marks: the header and trailer are skipped by their whole type
    from mimamori.sources.layoutdoc import read_layout
    from mimamori.sources.scan import profile_with_layouts

    doc = tmp_path / "layout.csv"
    doc.write_text(
        f"項目名,開始位置,バイト数\nレコード区分,1,{k}\n宛名番号,{k + 1},10\n氏名,{k + 11},20\n性別,{k + 31},1\n生年月日,{k + 32},8\n",
        encoding="utf-8",
    )
    (with_doc,) = profile_with_layouts([path], [read_layout(doc)], quiet=True)
    assert with_doc.record_marks == [("first", head), ("last", tail)] and with_doc.records == 30
    assert with_doc.columns[4].date_style == "yyyymmdd"


# --------------------------------------------------------------------------- gaps of the layout-b trial (session 28)


@pytest.mark.parametrize("encoding", ["cp932", "utf-8"])
@pytest.mark.parametrize("eras", ["HRS", "平令昭"])
def test_an_era_mark_and_six_digits_are_one_wareki_date(tmp_path, encoding, eras):
    """和暦 written as an era letter (or era kanji) and yymmdd (R081001): one date field, not a code and a number;
    the era varies from row to row and the date is blank on some rows."""
    rng = random.Random(17)
    ranges = {"H": (1, 30), "R": (1, 8), "S": (30, 63), "平": (1, 30), "令": (1, 8), "昭": (30, 63)}

    def era_date(optional: bool) -> str:
        era = rng.choice(eras)
        width = len(era.encode("cp932")) if encoding == "cp932" else 1
        if optional and rng.random() < 0.15:
            return " " * (width + 6)
        lo, hi = ranges[era]
        return f"{era}{rng.randrange(lo, hi + 1):02d}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"

    body = [
        f"{4200000000 + 13 * i:010d}"
        + era_date(False)
        + era_date(True)
        + f"2026{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
        for i in range(400)
    ]
    fields, profile = _profile(tmp_path, body, encoding)
    size = 6 + (len(eras[0].encode("cp932")) if encoding == "cp932" else 1)
    expect = [(1, 10), (11, 10 + size), (11 + size, 10 + 2 * size), (11 + 2 * size, 18 + 2 * size)]
    assert fields == expect, fields
    assert [c.date_style for c in profile.columns[1:]] == ["wareki", "wareki", "yyyymmdd"]


@pytest.mark.parametrize("encoding", ["cp932", "utf-8"])
def test_two_independent_two_digit_codes_are_two_fields(tmp_path, encoding):
    """Two 2-digit codes side by side (種別 then 区分, 8 and 9 values: more pairs than one short code has) are two
    fields; a 4-digit number and a 2-digit number of many values after them stay one field each."""
    rng = random.Random(23)
    kinds = ["11", "12", "13", "21", "22", "31", "41", "51"]
    classes = ["01", "02", "03", "04", "11", "12", "21", "22", "99"]
    body = [
        f"{4200000000 + 13 * i:010d}"
        + _pad(rng.choice(WIDE), 12, encoding, "　")
        + rng.choice(kinds)
        + rng.choice(classes)
        + _pad(rng.choice(WIDE), 12, encoding, "　")
        + f"{rng.randrange(0, 3000):04d}"
        + _pad(rng.choice(WIDE), 12, encoding, "　")
        + f"{rng.randrange(10, 100)}"
        for i in range(400)
    ]
    fields, _ = _profile(tmp_path, body, encoding)
    assert fields == [(1, 10), (11, 22), (23, 24), (25, 26), (27, 38), (39, 42), (43, 54), (55, 56)], fields
