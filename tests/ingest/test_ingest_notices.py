"""Notices of the ingestion: files named otherwise than the contract, rows exported twice.

A file in a department's folder that the registry does not name is never read, but the owner
hears of it (``unexpected_file_name``, with the name that was expected); if the contract's file
is then missing, ``missing_file`` rejects the source and names the look-alike. Identical rows
of a file without contract keys are a ``duplicate_row`` notice; in a keyed file they are the
``duplicate_key`` rejection, saying that the rows are identical.
"""

from __future__ import annotations

import unicodedata

import pytest
from ingest_fixtures import build_source, personal_values, sample_rows, write_file
from mimamori.ingest.filenames import unexpected_entries
from mimamori.ingest.load import IngestRejected, ingest_source
from mimamori.ingest.validate import RULES, check_file

MONTH = "2034-05"  # clear of the months other suites load
RUN = "manual__qa_notices"


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def near_misses(file: str) -> list[str]:
    """The ways people save a file under another name than the one agreed (built from the name)."""
    stem, dot, ext = file.rpartition(".")
    return [
        f"{stem} (1).{ext}",
        f"{stem}（2）.{ext}",
        f"{stem} 最新版.{ext}",
        f"{stem}のコピー.{ext}",
        f"{stem} - コピー.{ext}",
        f"{stem}_20340605.{ext}",
        f"{stem}.{ext.upper()}",
        f"{stem}　.{ext}",
        _fullwidth(f"{stem}.{ext}"),
        f"修正版{stem}.{ext}",
    ]


def test_every_near_miss_of_every_file_points_to_the_expected_name(tmp_path, registry):
    for name, src in registry.items():
        for spec in src.files:
            folder = tmp_path / name / spec.file.replace(".", "_")
            folder.mkdir(parents=True)
            variants = near_misses(spec.file)
            for variant in variants:
                assert variant != spec.file and unicodedata.normalize("NFC", variant) != spec.file
                (folder / variant).write_bytes(b"x\r\n")
            found = {u.name: u for u in unexpected_entries(src, folder, registry)}
            assert sorted(found) == sorted(variants), (name, spec.file)
            for variant in variants:
                assert found[variant].meant == spec.file, (variant, found[variant])


def test_hidden_entries_are_no_delivery_and_unknown_names_list_the_expected_ones(tmp_path, registry):
    src = registry["gakko"]
    folder = tmp_path / "gakko"
    folder.mkdir()
    (folder / ".DS_Store").write_bytes(b"\0")
    (folder / "メモ.txt").write_text("x")
    (folder / "古いもの").mkdir()
    (folder / "住民.csv").write_text("x")  # jumin's file in gakko's folder
    found = {u.name: u for u in unexpected_entries(src, folder, registry)}
    assert sorted(found) == ["メモ.txt", "住民.csv", "古いもの"]
    assert found["メモ.txt"].meant is None and found["古いもの"].is_dir
    assert (found["住民.csv"].other_source, found["住民.csv"].other_file) == ("jumin", "住民.csv")


def _notices(conn, source: str) -> list[tuple]:
    return conn.execute(
        "select file, rule, rows, message_ja from ingest.notices where run_month = %s and source = %s and run_id = %s"
        " order by file",
        (MONTH, source, RUN),
    ).fetchall()


@pytest.fixture()
def clean_up(wh_conn, registry):
    yield
    for src in registry.values():
        for spec in src.files:
            if wh_conn.execute("select to_regclass(%s) is not null", (f"raw.{spec.raw_table}",)).fetchone()[0]:
                wh_conn.execute(f'delete from raw."{spec.raw_table}" where run_month = %s', (MONTH,))
    for table in ("file_loads", "rejections", "notices", "run_steps"):
        wh_conn.execute(f"delete from ingest.{table} where run_month = %s", (MONTH,))


def test_a_copy_beside_the_delivered_file_loads_and_the_owner_is_told(
    tmp_path, registry, loader_dsn, wh_conn, clean_up
):
    src = registry["gakko"]
    build_source(tmp_path, MONTH, src)
    folder = tmp_path / MONTH / "gakko"
    (folder / "学齢簿 (1).csv").write_bytes((folder / "学齢簿.csv").read_bytes())
    (folder / "出欠 最新版.xlsx").write_bytes((folder / "出欠.xlsx").read_bytes())
    result = ingest_source(src, MONTH, tmp_path, loader_dsn, tmp_path / "q", run_id=RUN, log=lambda _: None)
    assert result.ok and [f.file for f in result.files] == [s.file for s in src.files]
    assert [(n.file, n.rule) for n in result.notices] == [
        ("出欠 最新版.xlsx", "unexpected_file_name"),
        ("学齢簿 (1).csv", "unexpected_file_name"),
    ]
    rows = _notices(wh_conn, "gakko")
    assert [(r[0], r[1]) for r in rows] == [(n.file, n.rule) for n in result.notices]
    for file, _, _, message in rows:
        assert file in message and RULES["unexpected_file_name"][0] in message
    assert "「学齢簿.csv」" in rows[1][3] and "読み込みました" in rows[1][3]
    assert (folder / "学齢簿 (1).csv").exists(), "an unexpected file is not read, not moved"


def test_a_renamed_file_is_missing_and_the_rejection_names_the_look_alike(
    tmp_path, registry, loader_dsn, wh_conn, clean_up
):
    src = registry["jumin"]
    build_source(tmp_path, MONTH, src)
    folder = tmp_path / MONTH / "jumin"
    (folder / "住民.csv").rename(folder / "住民 最新版.csv")
    with pytest.raises(IngestRejected) as caught:
        ingest_source(src, MONTH, tmp_path, loader_dsn, tmp_path / "q", run_id=RUN, log=lambda _: None)
    (missing,) = caught.value.result.rejections
    assert missing.rule == "missing_file"
    assert "「住民 最新版.csv」はファイル名が違うため読み込んでいません" in missing.message_ja
    assert "「住民.csv」に直して" in missing.message_ja
    rows = _notices(wh_conn, "jumin")
    assert [(r[0], r[1]) for r in rows] == [("住民 最新版.csv", "unexpected_file_name")]
    assert "想定しているファイル名は「住民.csv」" in rows[0][3]
    rejected = wh_conn.execute(
        "select rule from ingest.rejections where run_month = %s and source = 'jumin' and run_id = %s", (MONTH, RUN)
    ).fetchall()
    assert rejected == [("missing_file",)]


def check(inbox, src, file):
    return check_file(src, src.file(file), inbox / MONTH / src.source / file, MONTH)


def test_identical_rows_in_a_file_without_keys_are_a_notice(tmp_path, registry):
    src = registry["gakko"]
    build_source(tmp_path, MONTH, src)
    spec = src.file("学校健診.csv")
    assert not spec.keys
    rows = sample_rows(spec, 5, MONTH)
    rows[3] = list(rows[1])  # row 5 = row 3, every column
    write_file(tmp_path / MONTH / "gakko" / spec.file, spec, rows)
    parsed = check(tmp_path, src, spec.file)
    assert parsed.rejections == [] and len(parsed.rows) == 5, "loaded as delivered"
    assert [(n.rule, n.rows) for n in parsed.notices] == [("duplicate_row", [3, 5])]
    from mimamori.ingest.validate import NOTICE_RULES

    assert "duplicate_row" in NOTICE_RULES
    message = parsed.notices[0].message_ja
    assert RULES["duplicate_row"][0] in message and "3, 5行目" in message
    for value in personal_values(spec, rows):
        assert value not in message
    rows[3][spec.headers.index("むし歯本数")] = "9"  # the same child examined twice, other result: not identical
    write_file(tmp_path / MONTH / "gakko" / spec.file, spec, rows)
    assert check(tmp_path, src, spec.file).notices == []


def test_identical_rows_in_a_keyed_file_are_a_duplicate_key_that_says_so(tmp_path, registry):
    src = registry["jumin"]
    build_source(tmp_path, MONTH, src)
    spec = src.file("住民.csv")
    rows = sample_rows(spec, 6, MONTH)
    rows[4] = list(rows[1])
    write_file(tmp_path / MONTH / "jumin" / spec.file, spec, rows)
    (dup,) = check(tmp_path, src, spec.file).rejections
    assert (dup.rule, dup.rows) == ("duplicate_key", [3, 6])
    assert "全項目が同じ" in dup.message_ja and "二重に出力" in dup.message_ja
    rows[4] = list(rows[1])
    rows[4][spec.headers.index("氏名")] = "別人　花子"  # same 宛名番号, another person: a key clash, not a copy
    write_file(tmp_path / MONTH / "jumin" / spec.file, spec, rows)
    (dup,) = check(tmp_path, src, spec.file).rejections
    assert dup.rule == "duplicate_key" and "内容の違う行" in dup.message_ja and "全項目が同じ" not in dup.message_ja
