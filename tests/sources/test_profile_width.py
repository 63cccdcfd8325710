"""Full-width letters and digits in a text column (issue 21, both trials: the 住所 of the fixed-width 住民記録 and the
CSV's 住所 + 方書 came with 全角 digits — ２丁目２７番 —, the 予防接種 display name as ＭＲ　１期; each person added
``normalize:`` by hand after the marts differed). The draft writes ``normalize: width`` for a text column with
full-width ASCII, ``nfkc`` when a 全角 space sits between such characters (ＭＲ　１期 → MR 1期), nothing when every
value is half-width, and never on a kana column. Small synthetic files; no value is asserted or printed."""

from __future__ import annotations

import random
import re

import pytest
from mimamori.sources.draft import best_matches, choose_source
from mimamori.sources.drafttext import render_draft
from mimamori.sources.scan import profile_file

WIDE = str.maketrans(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ"
)


def _draft(tmp_path, name: str, rows: list[list[str]], source: str, encoding: str = "cp932") -> str:
    path = tmp_path / name
    path.write_bytes(("\r\n".join(",".join(r) for r in rows) + "\r\n").encode(encoding))
    profile = profile_file(path, quiet=True)
    src = choose_source([profile], registry_(), source)
    return render_draft(src, [(profile, best_matches(profile, src))])


def registry_():
    from mimamori.ingest.registry import load_registry

    return load_registry()


def _residents(share: float, n: int = 120) -> list[list[str]]:
    rng = random.Random(12)
    rows = [["宛名番号", "世帯番号", "氏名", "カナ氏名", "生年月日", "性別", "住所", "抽出日"]]
    for i in range(n):
        address = f"架空県みさき郡しおかぜ町浜見台{rng.randrange(1, 9)}丁目{rng.randrange(1, 30)}番{i}号"
        if rng.random() < share:
            address = address.translate(WIDE)
        rows.append(
            [f"31{i:08d}", f"H{5000000 + i // 3}", "山田\u3000花子", "ﾔﾏﾀﾞ ﾊﾅｺ", "20150401", "2", address, "20261002"]
        )
    return rows


def _line(draft: str, column: str) -> str:
    found = re.findall(rf"(?m)^      {column}:.*$", draft)
    assert len(found) == 1, column
    return found[0]


@pytest.mark.parametrize("encoding", ["cp932", "utf-8"])
@pytest.mark.parametrize("share", [1.0, 0.3])
def test_full_width_digits_in_an_address_are_normalized(tmp_path, encoding, share):
    draft = _draft(tmp_path, "JUMIN_202610.csv", _residents(share), "jumin", encoding)
    assert re.match(r"^      住所: \{from: 住所, normalize: width\}", _line(draft, "住所")), share
    assert "normalize" not in _line(draft, "カナ氏名")  # half-width kana stays as delivered


def test_half_width_values_are_left_as_they_are(tmp_path):
    draft = _draft(tmp_path, "JUMIN_202610.csv", _residents(0.0), "jumin")
    assert re.match(r"^      住所: 住所\b", _line(draft, "住所")) and "normalize" not in draft


def test_a_display_name_with_a_wide_space_between_letters_is_nfkc(tmp_path):
    rng = random.Random(3)
    names = [
        "ＭＲ\u3000１期",
        "ＭＲ\u3000２期",
        "四種混合\u3000３回目",
        "ＢＣＧ",
        "ヒブ\u3000１回目",
        "水痘\u3000２回目",
    ]
    rows = [["宛名番号", "接種名", "接種期限", "接種日", "処理日"]]
    rows += [
        [f"32{i:08d}", rng.choice(names), "20270331", rng.choice(["", "20261001"]), "20261002"] for i in range(150)
    ]
    draft = _draft(tmp_path, "YOBO_202610.csv", rows, "kodomo_katei")
    line = _line(draft, "ワクチン")
    assert re.match(r"^      ワクチン: \{from: 接種名, normalize: nfkc\}", line) and "TODO 確認" in line
