"""One contract column delivered in several adjacent fields (issue 21, the layout-b trial: 氏名_氏 + 氏名_名, カナ
氏名_氏 + カナ氏名_名, 生年月日_元号/_年/_月/_日, 住所 + 方書): the draft proposes ``from: [..], join:`` with a TODO to
confirm, instead of the first part alone or "no column found". The families of parts are data
(``_parts:`` in header_synonyms.yaml); the headers below are several spellings of each (suffix after a separator,
part word in front, bare part words, brackets). Small synthetic files written here; no value is asserted or printed."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from mimamori.sources.draft import best_matches, choose_source
from mimamori.sources.drafttext import render_draft
from mimamori.sources.scan import profile_file

SURNAMES = ["山田", "佐々木", "林", "長谷川", "高橋", "伊藤", "島田", "秋山", "中村", "小林", "加藤", "吉田"]
GIVEN = ["花子", "一", "次郎", "菜々", "翔", "結菜", "航", "恵子", "大翔", "陽葵", "蓮", "凛", "湊", "葵"]
KANA_S = ["ヤマダ", "ササキ", "ハヤシ", "ハセガワ", "タカハシ", "イトウ", "シマダ", "アキヤマ", "ナカムラ", "コバヤシ"]
KANA_G = ["ハナコ", "ハジメ", "ジロウ", "ナナ", "ショウ", "ユイナ", "ワタル", "ケイコ", "ヒロト", "ヒマリ", "レン"]

#: (name parts headers, kana parts headers, birth-date parts headers or None for one 生年月日 column, address parts)
SPELLINGS = {
    "suffix": (["氏名_氏", "氏名_名"], ["カナ氏名_氏", "カナ氏名_名"], ["生年月日_元号", "生年月日_年", "生年月日_月", "生年月日_日"], ["住所", "方書"]),
    "bare": (["氏", "名"], ["氏カナ", "名カナ"], None, ["住所", "方書"]),
    "sei": (["姓", "名"], ["姓（カナ）", "名（カナ）"], ["生年月日元号", "生年月日年", "生年月日月", "生年月日日"], ["現住所", "建物名"]),
    "brackets": (["氏名（氏）", "氏名（名）"], ["フリガナ（姓）", "フリガナ（名）"], ["生年月日(年号)", "生年月日(年)", "生年月日(月)", "生年月日(日)"], ["住所", "方書"]),
}  # fmt: skip


def _rows(spelling: str, n: int = 150, era: str = "code") -> list[list[str]]:
    names, kanas, dates, address = SPELLINGS[spelling]
    rng = random.Random(29)
    header = ["宛名番号", "世帯番号", *names, *kanas, *(dates or ["生年月日"]), "性別", *address, "抽出日"]
    rows = [header]
    for i in range(n):
        year, month, day = rng.randrange(1, 8), rng.randrange(1, 13), rng.randrange(1, 29)
        if dates is None:
            born = [f"令和{year}年{month}月{day}日"]
        elif era == "code":
            born = ["5", f"{year:02d}", f"{month:02d}", f"{day:02d}"]
        else:
            born = ["R", f"{year:02d}", f"{month:02d}", f"{day:02d}"]
        rows.append(
            [f"31{i:08d}", f"H{5000000 + i // 3}", rng.choice(SURNAMES), rng.choice(GIVEN)]
            + [rng.choice(KANA_S), rng.choice(KANA_G), *born, rng.choice("12")]
            + [f"架空県みさき郡しおかぜ町浜見台{rng.randrange(1, 9)}丁目{rng.randrange(1, 30)}番{i}号"]
            + [rng.choice(["", "", f"しおかぜハイツ{rng.randrange(101, 309)}"]), "20261002"]
        )
    return rows


def _draft(tmp_path: Path, registry, rows: list[list[str]]) -> str:
    path = tmp_path / "JUKI_KIHON_202610.csv"
    path.write_bytes(("\r\n".join(",".join(r) for r in rows) + "\r\n").encode("cp932"))
    profile = profile_file(path, quiet=True)
    src = choose_source([profile], registry, "jumin")
    return render_draft(src, [(profile, best_matches(profile, src))])


def _line(draft: str, column: str) -> str:
    found = re.findall(rf"(?m)^      {column}:.*$", draft)
    assert len(found) == 1, (column, len(found))
    return found[0]


def _from(line: str) -> list[str]:
    m = re.search(r"from: \[([^\]]*)\]", line)
    return [x.strip().strip('"') for x in m[1].split(",")] if m else []


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_name_in_two_fields_is_drafted_as_their_join_with_a_todo(tmp_path, registry, spelling):
    names, kanas, _, _ = SPELLINGS[spelling]
    draft = _draft(tmp_path, registry, _rows(spelling))
    for column, parts in (("氏名", names), ("カナ氏名", kanas)):
        line = _line(draft, column)
        assert _from(line) == list(parts), (spelling, column)
        assert 'join: "\u3000"' in line and "TODO 確認" in line, (spelling, column)


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_an_address_and_its_katagaki_are_drafted_as_their_join(tmp_path, registry, spelling):
    address = SPELLINGS[spelling][3]
    line = _line(_draft(tmp_path, registry, _rows(spelling)), "住所")
    assert _from(line) == address and 'join: "\u3000"' in line and "TODO 確認" in line, spelling


@pytest.mark.parametrize(
    ("spelling", "era", "style"),
    [("suffix", "code", "wareki_code"), ("sei", "letter", "wareki"), ("brackets", "code", "wareki_code")],
)
def test_an_era_year_month_day_in_four_fields_is_one_date(tmp_path, registry, spelling, era, style):
    dates = SPELLINGS[spelling][2]
    line = _line(_draft(tmp_path, registry, _rows(spelling, era=era)), "生年月日")
    assert _from(line) == list(dates), spelling
    assert 'join: ""' in line and f"date: {style}" in line and "TODO 確認" in line, (spelling, era)


def test_one_name_column_stays_one_column(tmp_path, registry):
    rows = _rows("bare")
    # 氏名 in one field (the surname and given name already joined), and no 名 after it
    rows = [[r[0], r[1], "氏名" if i == 0 else r[2] + "\u3000" + r[3], *r[4:]] for i, r in enumerate(rows)]
    line = _line(_draft(tmp_path, registry, rows), "氏名")
    assert "join" not in line and re.match(r"^      氏名: 氏名\b", line)
