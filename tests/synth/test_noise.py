"""Identity noise rates on the school side, within stated tolerances, measured from truth."""

from __future__ import annotations

from collections import Counter

from mimamori.synth.noise import RATE, VARIANTS

from .helpers import read_csv, read_truth

SCHOOL = ("学齢簿.csv", "出欠.xlsx", "学校健診.csv", "就学援助.csv", "給食費.csv")


def _codes(out, month):
    rows = read_truth(out / "truth" / month / "records.csv")
    by_file: dict[str, list] = {}
    for r in rows:
        by_file.setdefault(r["file"], []).append(set(filter(None, r["noise"].split("|"))))
    return rows, by_file


def _rate(rows, code):
    return sum(1 for c in rows if code in c) / len(rows)


def test_register_atena_noise(town):
    out, summary = town
    _, by_file = _codes(out, summary.months[-1])
    reg = by_file["学齢簿.csv"]
    assert len(reg) > 1000
    assert 0.10 <= _rate(reg, "no_atena") <= 0.16
    assert 0.004 <= _rate(reg, "wrong_atena") <= 0.025
    assert 0.25 <= _rate(reg, "address_variant") <= 0.35
    # the file agrees with the truth: blank 宛名番号 exactly where no_atena is recorded
    header, rows = read_csv(out / "inbox" / summary.months[-1] / "gakko" / "学齢簿.csv", "cp932")
    i = header.index("宛名番号")
    assert [r[i] == "" for r in rows] == ["no_atena" in c for c in reg]


def test_names_kana_dates(town):
    out, summary = town
    truth, by_file = _codes(out, summary.months[-1])
    school = [c for f in SCHOOL for c in by_file[f]]
    reg = by_file["学齢簿.csv"]
    kana = _rate(reg, "kana_halfwidth") + _rate(reg, "kana_hiragana")
    assert 0.11 <= kana <= 0.19, kana
    dates = sum(1 for c in school if c & {"date_era", "date_ymd8", "date_fullwidth"}) / len(school)
    assert 0.15 <= dates <= 0.30, dates  # 生年月日 (and 健診日) per row: ~20% per date value
    typos = _rate([c for f in ("学齢簿.csv", "出欠.xlsx") for c in by_file[f]], "birth_typo")
    assert 0.008 <= typos <= 0.035, typos
    assert 0.02 <= _rate(by_file["出欠.xlsx"], "no_student_no") <= 0.045


def test_variant_kanji_rate(town):
    out, summary = town
    month = summary.months[-1]
    header, rows = read_csv(out / "inbox" / month / "jumin" / "住民.csv", "cp932")
    names = {r[0]: r[2] for r in rows}
    truth = [r for r in read_truth(out / "truth" / month / "records.csv") if r["file"] in SCHOOL]
    eligible = [r for r in truth if r["atena_no"] and any(ch in VARIANTS for ch in names.get(r["atena_no"], ""))]
    share_all = sum(1 for r in truth if "variant_kanji" in r["noise"]) / len(truth)
    share_eligible = sum(1 for r in eligible if "variant_kanji" in r["noise"]) / len(eligible)
    assert 0.05 <= share_all <= 0.30, share_all
    assert abs(share_eligible - RATE["variant_kanji"]) < 0.08, share_eligible


def test_old_surname_after_divorce(town):
    out, summary = town
    truth = read_truth(out / "truth" / summary.months[-1] / "records.csv")
    codes = Counter(r["file"] for r in truth if "old_surname" in r["noise"])
    assert sum(codes.values()) >= 5, "children of divorced parents appear under the old surname"


def test_other_files_have_full_ids(town):
    out, summary = town
    truth = read_truth(out / "truth" / summary.months[-1] / "records.csv")
    for r in truth:
        if r["source"] != "gakko" and r["file"] not in ("児童相談記録.csv", "相談記録.csv"):
            assert r["atena_no"], r["file"]
    consult = [r for r in truth if r["file"] in ("児童相談記録.csv", "相談記録.csv")]
    assert any(not r["atena_no"] for r in consult), "some consultations carry only 世帯番号"
