"""Fixed-width boundaries of an export never seen (issue 21, the independent town's trial): a digit record
type (1 header, 2 data, 9 trailer), 全角 fields padded with 全角 spaces, a one-digit code before a date."""

from __future__ import annotations

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
