"""A checkup file's age in its name, abbreviated (issue 21, the layout-a trial: 健診_4M_, 健診_1Y6M_, 健診_3Y_ — the
person wrote each 健診区分 constant by hand): an age written as Y/M (1Y6M), ヶ月/カ月, 歳半 is read as the contract's
value (1歳6か月) and proposed as the file's constant with a TODO to confirm; a name without an age gets the empty
constant as before. Small synthetic files; no value is asserted or printed."""

from __future__ import annotations

import re

import pytest
from mimamori.sources.draft import best_matches, choose_source
from mimamori.sources.drafttext import render_draft
from mimamori.sources.scan import profile_file
from test_profile_matching import _checkups, _write

HEADER = ["宛名番号", "対象年月", "受診年月日", "問診要観察", "う歯数", "母喫煙", "要フォロー", "作成日"]
NAMES = {
    "健診_4M_202610.csv": "4か月",
    "健診_1Y6M_202610.csv": "1歳6か月",
    "健診_3Y_202610.csv": "3歳",
    "KENSHIN_3Y_202610.csv": "3歳",
    "乳児健診4ヶ月_202610.csv": "4か月",
    "幼児健診1歳半_202610.csv": "1歳6か月",
    "健診_1y6m_202610.csv": "1歳6か月",
    "健診_18M_202610.csv": "1歳6か月",  # months past a year (the layout-c re-trial wrote this one by hand)
    "健診_36M_202610.csv": "3歳",
    "健診_B_202610.csv": "",
}


@pytest.mark.parametrize("name", NAMES)
def test_the_age_in_a_checkup_file_name_is_its_constant(tmp_path, registry, name):
    profile = profile_file(_write(tmp_path / name, [HEADER, *_checkups()]), quiet=True)
    source = choose_source([profile], registry, "kodomo_katei")
    text = render_draft(source, [(profile, best_matches(profile, source))])
    line = re.search(r"(?m)^ +健診区分: .*$", text)[0]
    assert f'{{constant: "{NAMES[name]}"}}' in line, name
    assert "TODO" in line, name
