"""Every fault class produces exactly what the manifest claims (last month only)."""

from __future__ import annotations

import json
import zipfile

import openpyxl
import pytest
from mimamori.synth import generate

from .conftest import contract_files
from .helpers import read_csv

FILES = contract_files()


def _manifest(out):
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def _entry(out, kind, file=None):
    entries = [e for e in _manifest(out)["faults"] if e["kind"] == kind and (file is None or e["file"] == file)]
    assert entries, kind
    return entries[0]


def test_first_month_untouched(small_faulty):
    out, summary = small_faulty
    first = summary.months[0]
    for (source, file), _spec in FILES.items():
        assert (out / "inbox" / first / source / file).stat().st_size > 0


def test_missing_source(small_faulty):
    out, summary = small_faulty
    last = summary.months[-1]
    assert not (out / "inbox" / last / "fukushi").exists()
    assert _entry(out, "missing_source")["file"] == "fukushi"


def test_wrong_encoding_utf8_sig_as_cp932(small_faulty):
    out, summary = small_faulty
    raw = (out / "inbox" / summary.months[-1] / "kodomo_katei" / "妊産婦.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


def test_missing_and_renamed_column(small_faulty):
    out, summary = small_faulty
    last = summary.months[-1]
    header, rows = read_csv(out / "inbox" / last / "gakko" / "学齢簿.csv", "cp932")
    expected = FILES[("gakko", "学齢簿.csv")]["headers"]
    assert len(header) == len(expected) - 1 and set(header) < set(expected)
    header, _ = read_csv(out / "inbox" / last / "kodomo_shien" / "児童扶養手当.csv", "cp932")
    assert header != FILES[("kodomo_shien", "児童扶養手当.csv")]["headers"]
    assert "renamed" in _entry(out, "renamed_column")["detail"]


def test_duplicate_key(small_faulty, tmp_path):
    out = tmp_path / "dup"
    generate(out, seed=7, scale=0.2, months=1, end_month="2026-10", faults=("duplicate_key",))
    e = _entry(out, "duplicate_key")
    header, rows = read_csv(out / "inbox" / "2026-10" / "fukushi" / "要介護認定.csv", "cp932")
    keys = FILES[("fukushi", "要介護認定.csv")]["keys"]
    idx = [header.index(k) for k in keys]
    seen, dups = set(), []
    for n, r in enumerate(rows, start=2):
        k = tuple(r[i] for i in idx)
        if k in seen:
            dups.append(n)
        seen.add(k)
    assert dups == e["rows"] and len(dups) == 3


def test_future_and_bad_dates(small_faulty):
    out, summary = small_faulty
    last = summary.months[-1]
    e = _entry(out, "future_birth_date")
    header, rows = read_csv(out / "inbox" / last / "jumin" / "住民.csv", "cp932")
    i = header.index("生年月日")
    assert len(e["rows"]) == 2
    for n in e["rows"]:
        assert rows[n - 2][i] > "20261031"
    e = _entry(out, "bad_era_date")
    header, rows = read_csv(out / "inbox" / last / "gakko" / "学齢簿.csv", "cp932")
    i = header.index("生年月日")
    bad = [
        n for n, r in enumerate(rows, start=2) if r[i] in ("平成99年13月45日", "令和元年2月30日", "不明", "H31.13.1")
    ]
    assert bad == e["rows"]


def test_empty_header_only_other_month(small_faulty):
    out, summary = small_faulty
    last = summary.months[-1]
    assert (out / "inbox" / last / "kodomo_shien" / "保育所入所.csv").stat().st_size == 0
    header, rows = read_csv(out / "inbox" / last / "kodomo_katei" / "予防接種.csv", "cp932")
    assert header == FILES[("kodomo_katei", "予防接種.csv")]["headers"] and rows == []
    header, rows = read_csv(out / "inbox" / last / "kodomo_katei" / "乳幼児健診.csv", "cp932")
    assert rows and {r[-1] for r in rows} == {"2026-08-15"}
    assert len(_entry(out, "other_month")["rows"]) == len(rows)


def test_truncated_xlsx(small_faulty):
    out, summary = small_faulty
    path = out / "inbox" / summary.months[-1] / "gakko" / "出欠.xlsx"
    with pytest.raises((zipfile.BadZipFile, KeyError, OSError, ValueError)):
        openpyxl.load_workbook(path)
    ok = out / "inbox" / summary.months[0] / "gakko" / "出欠.xlsx"
    openpyxl.load_workbook(ok)


def test_unknown_fault_rejected(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path, scale=0.05, months=1, faults=("no_such_fault",))
    with pytest.raises(ValueError):
        generate(tmp_path, scale=0.05, months=1, faults=("truncated_xlsx:jumin/住民.csv",))


def test_wrong_encoding_default(tmp_path):
    generate(tmp_path, seed=7, scale=0.1, months=1, end_month="2026-10", faults=("wrong_encoding",))
    raw = (tmp_path / "inbox" / "2026-10" / "fukushi" / "障害者手帳.csv").read_bytes()
    raw.decode("utf-8")
    try:
        header = raw.decode("cp932").split("\r\n")[0]
    except UnicodeDecodeError:
        header = None
    assert header != ",".join(FILES[("fukushi", "障害者手帳.csv")]["headers"])
    assert _entry(tmp_path, "wrong_encoding")["file"] == "fukushi/障害者手帳.csv"
