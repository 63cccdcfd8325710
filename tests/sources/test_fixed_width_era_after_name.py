"""An era kanji right after a 全角 name field in a fixed-width file (issue 21, the gap left after the layout-b trial):
氏名 padded to its width, then 令081001 / 平310430 (the era varying by row). The name field must end where its padding
ends and the era kanji must start the date field (one ``wareki`` date), in CP932 bytes and in characters, with the
name padded by 全角 or half-width spaces, some names filling the field. Synthetic values; none asserted or printed."""

from __future__ import annotations

import random

import pytest
from mimamori.sources.scan import profile_file

FAMILY = ["山田", "佐々木", "林", "長谷川", "高橋", "伊藤", "中村", "小林"]
GIVEN = ["花子", "一", "次郎", "菜々", "翔", "結菜", "大翔"]
ERAS = {"令": (1, 8), "平": (1, 30), "昭": (30, 63)}


def _size(text: str, encoding: str) -> int:
    return len(text.encode("cp932")) if encoding == "cp932" else len(text)


def _pad(text: str, width: int, encoding: str, fill: str) -> str:
    while _size(text, encoding) + _size(fill, encoding) <= width:
        text += fill
    return text + " " * (width - _size(text, encoding))


@pytest.mark.parametrize("encoding", ["cp932", "utf-8"])
@pytest.mark.parametrize("fill", ["\u3000", " "])
@pytest.mark.parametrize("full", [0.0, 0.1])
def test_an_era_kanji_after_a_wide_name_starts_the_date(tmp_path, encoding, fill, full):
    rng = random.Random(31)
    width = 16 if encoding == "cp932" else 8  # the name field: 8 全角 characters
    body = []
    for i in range(300):
        name = rng.choice(FAMILY) + "\u3000" + rng.choice(GIVEN)
        if rng.random() < full:
            name = ("長谷川\u3000菜々子" + "長" * 8)[: width // (2 if encoding == "cp932" else 1)]  # fills the field
        era = rng.choice(list(ERAS))
        lo, hi = ERAS[era]
        born = f"{era}{rng.randrange(lo, hi + 1):02d}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
        body.append(f"{4300000000 + 11 * i:010d}" + _pad(name, width, encoding, fill) + born + rng.choice("12"))
    path = tmp_path / "VENDOR.DAT"
    path.write_bytes(("\r\n".join(body) + "\r\n").encode(encoding))
    profile = profile_file(path, quiet=True)
    era = 2 if encoding == "cp932" else 1
    fields = [(c.start, c.end) for c in profile.columns]
    assert fields[:3] == [(1, 10), (11, 10 + width), (11 + width, 10 + width + era + 6)], fields
    assert profile.columns[2].date_style == "wareki"
