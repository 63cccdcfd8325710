"""Every way a delivered file can fail ends in a rejection — never an error (issue 16).

Real files on disk, the real test cluster, the loader as the DAG calls it. Each case checks the
rule id, the rows where there are any, that the file went to quarantine (when there is still a
file), that the attempt's load step says ``rejected``, that no raw row of the attempt remains,
and that no message carries a value of the file. Months 2033-xx are these tests' own.
"""

from __future__ import annotations

import io
import os
import random
import threading
import zipfile
from pathlib import Path

import pytest
from ingest_fixtures import build_source, personal_values, sample_rows, write_file
from mimamori.ingest import IngestRejected, ingest_source
from mimamori.ingest.limits import Limits

LIMITS = Limits(max_file_bytes=4_000_000, max_rows=50, max_line_bytes=2_000, max_field_chars=300)
#: For the size limits: a small file limit.
SMALL = Limits(max_file_bytes=20_000, max_rows=50, max_line_bytes=2_000, max_field_chars=300)
SOURCE = "fukushi"
FILE = "障害者手帳.csv"  # cp932, key (宛名番号, 手帳種別); columns id, code, text, flag, date, date


def _inbox(tmp_path: Path, month: str, registry, n: int = 5) -> Path:
    build_source(tmp_path / "inbox", month, registry[SOURCE], n=n)
    return tmp_path / "inbox" / month / SOURCE / FILE


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\r\n")


def _load(tmp_path, month, registry, loader_dsn, run_id, log=None, limits=LIMITS):
    return ingest_source(
        SOURCE,
        month,
        tmp_path / "inbox",
        loader_dsn,
        tmp_path / "quarantine",
        run_id=run_id,
        limits=limits,
        registry=registry,
        log=log or (lambda _line: None),
    )


def _rejected(tmp_path, month, registry, loader_dsn, wh_conn, run_id, log=None, limits=LIMITS) -> dict:
    """Run the load; assert it ended rejected and clean; return {file: [(rule, rows, column)]}."""
    with pytest.raises(IngestRejected) as exc:
        _load(tmp_path, month, registry, loader_dsn, run_id, log, limits)
    result = exc.value.result
    assert result.run_id == run_id and result.rejections
    for spec in registry[SOURCE].files:
        left = wh_conn.execute(
            f"select count(*) from raw.{spec.raw_table} where run_month = %s and run_id = %s", (month, run_id)
        ).fetchone()[0]
        assert left == 0, f"{spec.file}: rows of a rejected attempt remain"
    step = wh_conn.execute(
        "select status, detail ->> 'rules' from ingest.run_steps where run_month = %s and run_id = %s"
        " and step = 'load' and source = %s",
        (month, run_id, SOURCE),
    ).fetchone()
    assert step[0] == "rejected"
    recorded = wh_conn.execute(
        "select count(*) from ingest.rejections where run_month = %s and run_id = %s", (month, run_id)
    ).fetchone()[0]
    assert recorded == len(result.rejections)
    out: dict[str, list] = {}
    for r in result.rejections:
        out.setdefault(r.file, []).append((r.rule, r.rows, r.column))
    return out


def _quarantined(tmp_path, month) -> bool:
    return (tmp_path / "quarantine" / month / SOURCE / FILE).exists() or (
        tmp_path / "quarantine" / month / SOURCE / FILE
    ).is_symlink()


@pytest.fixture()
def fukushi_spec(registry):
    return registry[SOURCE].file(FILE)


def test_an_over_long_line_is_rejected_with_its_line(tmp_path, registry, loader_dsn, wh_conn):
    month = "2033-01"
    path = _inbox(tmp_path, month, registry)
    lines = _lines(path)
    lines[3] += b"x" * 1_000_000  # the 1 MB line, far beyond csv's own 128 KiB field limit
    path.write_bytes(b"\r\n".join(lines))
    got = _rejected(tmp_path, month, registry, loader_dsn, wh_conn, "fc-line")
    assert got[FILE] == [("line_too_long", [4], None)]
    assert _quarantined(tmp_path, month)


def test_an_over_large_field_is_rejected_with_row_and_column(tmp_path, registry, loader_dsn, wh_conn):
    month = "2033-02"
    path = _inbox(tmp_path, month, registry)
    lines = _lines(path)
    cells = lines[2].split(b",")
    cells[2] = "長".encode("cp932") * 400  # 等級: 400 characters, 800 bytes (under the line limit)
    lines[2] = b",".join(cells)
    path.write_bytes(b"\r\n".join(lines))
    got = _rejected(tmp_path, month, registry, loader_dsn, wh_conn, "fc-field")
    assert got[FILE] == [("field_too_large", [3], "等級")]
    assert _quarantined(tmp_path, month)


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(lambda raw: raw[: raw.rindex(b",")], id="mid-row"),
        pytest.param(lambda raw: raw[: raw.index("架空".encode("cp932")) + 1], id="mid-character"),
        pytest.param(lambda raw: raw + b'x,"unfinished', id="inside-quotes"),
    ],
)
def test_a_truncated_file_is_rejected(tmp_path, registry, loader_dsn, wh_conn, cut):
    month = "2033-03"
    path = _inbox(tmp_path, month, registry)
    path.write_bytes(cut(path.read_bytes()))
    got = _rejected(tmp_path, month, registry, loader_dsn, wh_conn, "fc-cut")
    assert [rule for rule, _, _ in got[FILE]] == ["truncated_file"]
    assert _quarantined(tmp_path, month)


def test_an_unclosed_quote_is_malformed_not_an_error(tmp_path, registry, loader_dsn, wh_conn):
    month = "2033-04"
    path = _inbox(tmp_path, month, registry)
    lines = _lines(path)
    lines[2] = lines[2].replace(b",", b',"', 1)  # a quote opened in row 3 and never closed
    path.write_bytes(b"\r\n".join(lines))
    got = _rejected(tmp_path, month, registry, loader_dsn, wh_conn, "fc-quote")
    assert got[FILE][0][0] == "malformed_csv" and got[FILE][0][1]


@pytest.mark.parametrize("spec_file", [FILE, "要介護認定.csv"])
def test_binary_garbage_is_rejected(tmp_path, registry, loader_dsn, wh_conn, spec_file):
    month = "2033-05"
    _inbox(tmp_path, month, registry)
    path = tmp_path / "inbox" / month / SOURCE / spec_file
    path.write_bytes(random.Random(16).randbytes(50_000) + b"\r\n")
    got = _rejected(tmp_path, month, registry, loader_dsn, wh_conn, "fc-garbage")
    assert [rule for rule, _, _ in got[spec_file]] == ["encoding"]
    assert (tmp_path / "quarantine" / month / SOURCE / spec_file).exists()


@pytest.mark.parametrize("delimiter", [b"\t", b";"])
def test_a_wrong_delimiter_is_rejected(tmp_path, registry, loader_dsn, wh_conn, delimiter):
    month = "2033-06"
    path = _inbox(tmp_path, month, registry)
    path.write_bytes(path.read_bytes().replace(b",", delimiter))
    got = _rejected(tmp_path, month, registry, loader_dsn, wh_conn, "fc-delim")
    assert {"missing_column", "renamed_column"} & {rule for rule, _, _ in got[FILE]}


def test_a_file_that_disappears_or_turns_unreadable_after_listing(tmp_path, registry, loader_dsn, wh_conn):
    """The loader reads the source's files one after the other; as it logs the first, the second
    disappears and the third becomes unreadable (a link to /proc/self/mem, whose read fails with
    EIO even for root) — between the listing and their loading."""
    month = "2033-07"
    _inbox(tmp_path, month, registry)
    folder = tmp_path / "inbox" / month / SOURCE
    files = [spec.file for spec in registry[SOURCE].files]
    assert all((folder / f).is_file() for f in files)  # listed: every file is there
    gone, unreadable = files[1], files[2]

    def on_first_read(line: str) -> None:
        if line.startswith(f"{SOURCE}/{files[0]}:") and (folder / gone).exists():
            (folder / gone).unlink()
            (folder / unreadable).unlink()
            (folder / unreadable).symlink_to("/proc/self/mem")

    got = _rejected(tmp_path, month, registry, loader_dsn, wh_conn, "fc-vanish", log=on_first_read)
    assert [rule for rule, _, _ in got[gone]] == ["missing_file"]
    assert [rule for rule, _, _ in got[unreadable]] == ["unreadable"]
    assert (tmp_path / "quarantine" / month / SOURCE / unreadable).is_symlink()
    assert files[0] not in got  # the first file was fine: not quarantined
    assert (folder / files[0]).is_file()


def test_a_pipe_or_a_directory_in_place_of_the_file_is_refused_without_blocking(
    tmp_path, registry, loader_dsn, wh_conn
):
    month = "2033-08"
    _inbox(tmp_path, month, registry)
    folder = tmp_path / "inbox" / month / SOURCE
    files = [spec.file for spec in registry[SOURCE].files]
    (folder / files[0]).unlink()
    os.mkfifo(folder / files[0])  # reading a pipe would wait forever for a writer
    (folder / files[1]).unlink()
    (folder / files[1]).mkdir()
    outcome: dict = {}
    worker = threading.Thread(
        target=lambda: outcome.update(got=_rejected(tmp_path, month, registry, loader_dsn, wh_conn, "fc-pipe"))
    )
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "the loader blocked on a pipe"
    assert [rule for rule, _, _ in outcome["got"][files[0]]] == ["unreadable"]
    assert [rule for rule, _, _ in outcome["got"][files[1]]] == ["unreadable"]


def test_limits_on_size_and_rows(tmp_path, registry, loader_dsn, wh_conn, fukushi_spec):
    month = "2033-09"
    path = _inbox(tmp_path, month, registry)
    write_file(path, fukushi_spec, sample_rows(fukushi_spec, LIMITS.max_rows + 1, month))
    got = _rejected(tmp_path, month, registry, loader_dsn, wh_conn, "fc-rows")
    assert [rule for rule, _, _ in got[FILE]] == ["too_many_rows"]

    path = _inbox(tmp_path, month, registry)
    path.write_bytes(path.read_bytes() + b"\r\n" * SMALL.max_file_bytes)
    got = _rejected(tmp_path, month, registry, loader_dsn, wh_conn, "fc-bytes", limits=SMALL)
    assert [rule for rule, _, _ in got[FILE]] == ["file_too_large"]


def test_an_xlsx_that_unpacks_beyond_the_limit_is_refused_unopened(tmp_path, registry, loader_dsn, wh_conn):
    month = "2033-10"
    build_source(tmp_path / "inbox", month, registry["gakko"], n=3)
    path = tmp_path / "inbox" / month / "gakko" / "出欠.xlsx"
    buf = io.BytesIO(path.read_bytes())
    with zipfile.ZipFile(buf, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/padding.bin", b"\0" * (SMALL.max_file_bytes * 4))  # compresses to a few hundred bytes
    path.write_bytes(buf.getvalue())
    assert path.stat().st_size < SMALL.max_file_bytes
    with pytest.raises(IngestRejected) as exc:
        ingest_source(
            "gakko",
            month,
            tmp_path / "inbox",
            loader_dsn,
            tmp_path / "quarantine",
            run_id="fc-bomb",
            limits=SMALL,
            registry=registry,
            log=lambda _line: None,
        )
    assert [(r.file, r.rule) for r in exc.value.result.rejections] == [("出欠.xlsx", "file_too_large")]


def test_an_xlsx_with_unsaved_formula_results_is_a_formula_rejection(tmp_path, registry, loader_dsn, wh_conn):
    """Not 「必須項目が空欄です」: the cells are not blank, their values were never saved."""
    import openpyxl

    month = "2033-11"
    build_source(tmp_path / "inbox", month, registry["gakko"], n=4)
    path = tmp_path / "inbox" / month / "gakko" / "出欠.xlsx"
    wb = openpyxl.load_workbook(path)
    sheet = wb.worksheets[0]
    for row in (3, 5):
        for col in range(1, sheet.max_column + 1):
            sheet.cell(row=row, column=col).value = f"=A{row}"  # every column, required ones included
    wb.save(path)
    with pytest.raises(IngestRejected) as exc:
        ingest_source(
            "gakko",
            month,
            tmp_path / "inbox",
            loader_dsn,
            tmp_path / "quarantine",
            run_id="fc-formula",
            limits=LIMITS,
            registry=registry,
            log=lambda _line: None,
        )
    got = [(r.file, r.rule, r.rows) for r in exc.value.result.rejections]
    assert got == [("出欠.xlsx", "formula_cell", [3, 5])]


def test_values_the_database_cannot_hold_are_reported_not_crashed_on(
    tmp_path, registry, loader_dsn, wh_conn, fukushi_spec
):
    """NUL in a text (PostgreSQL text cannot hold it) and an integer beyond PostgreSQL's range
    made the COPY fail with an uncaught error before; they are bad values of their rows now."""
    month = "2033-11"
    roomy = Limits(max_file_bytes=200_000, max_rows=1_000, max_line_bytes=2_000, max_field_chars=300)  # 120 rows
    path = _inbox(tmp_path, month, registry, n=120)
    lines = _lines(path)
    assert len(b"\r\n".join(lines[:110])) > 4096
    cells = lines[110].split(b",")
    cells[2] = b"A\x00B"  # 等級, beyond the first 4 KB (where the encoding guess looks for NULs)
    lines[110] = b",".join(cells)
    path.write_bytes(b"\r\n".join(lines))
    got = _rejected(tmp_path, month, registry, loader_dsn, wh_conn, "fc-nul", limits=roomy)
    assert got[FILE] == [("bad_value", [111], "等級")]

    build_source(tmp_path / "inbox", month, registry["gakko"], n=3)
    register = tmp_path / "inbox" / month / "gakko" / "学齢簿.csv"
    text = register.read_bytes().decode("cp932").split("\r\n")
    header = text[0].split(",")
    row = text[1].split(",")
    row[header.index("学年")] = "99999999999"
    text[1] = ",".join(row)
    register.write_bytes("\r\n".join(text).encode("cp932"))
    with pytest.raises(IngestRejected) as exc:
        ingest_source(
            "gakko",
            month,
            tmp_path / "inbox",
            loader_dsn,
            tmp_path / "quarantine",
            run_id="fc-int",
            limits=LIMITS,
            registry=registry,
            log=lambda _line: None,
        )
    assert [(r.file, r.rule, r.rows, r.column) for r in exc.value.result.rejections] == [
        ("学齢簿.csv", "bad_value", [2], "学年")
    ]


def test_a_refusal_by_the_database_is_a_rejection_of_that_file(tmp_path, registry, loader_dsn, wh_conn):
    """Whatever the checks miss, the database may still refuse (here a constraint it has and the
    contract does not): the file is rejected as ``load_error``, its SQLSTATE kept, never the
    database's message (it can quote a value)."""
    month = "2033-12"
    path = _inbox(tmp_path, month, registry)
    _load(tmp_path, month, registry, loader_dsn, "fc-ok")  # creates the raw tables
    build_source(tmp_path / "inbox", month, registry[SOURCE], n=5)
    wh_conn.execute(
        "alter table raw.fukushi__disability_certificates add constraint fc_refuse check (run_id <> 'fc-refused')"
    )
    try:
        got = _rejected(tmp_path, month, registry, loader_dsn, wh_conn, "fc-refused")
    finally:
        wh_conn.execute("alter table raw.fukushi__disability_certificates drop constraint fc_refuse")
    assert got == {FILE: [("load_error", [], None)]}
    message = wh_conn.execute(
        "select message_en from ingest.rejections where run_id = 'fc-refused' and run_month = %s", (month,)
    ).fetchone()[0]
    assert "SQLSTATE 23514" in message and "fc_refuse" not in message
    assert not path.exists() and _quarantined(tmp_path, month)
    # The earlier attempt of the month is untouched.
    kept = wh_conn.execute(
        "select count(*) from raw.fukushi__disability_certificates where run_month = %s and run_id = 'fc-ok'", (month,)
    ).fetchone()[0]
    assert kept == 5


def test_an_unforeseen_error_while_checking_is_a_rejection_without_its_message(
    tmp_path, registry, loader_dsn, wh_conn, monkeypatch
):
    """The safety net: an error nobody foresaw (simulated inside the checks) rejects the file as
    ``internal_error``, names the error's class, and never its message."""
    from mimamori.ingest import validate

    def broken(*_args, **_kwargs):
        raise ZeroDivisionError("見守　花子 2015-04-01")

    monkeypatch.setattr(validate, "check_table", broken)
    month = "2034-01"
    _inbox(tmp_path, month, registry)
    with pytest.raises(IngestRejected) as exc:
        _load(tmp_path, month, registry, loader_dsn, "fc-internal")
    assert {r.rule for r in exc.value.result.rejections} == {"internal_error"}
    for r in exc.value.result.rejections:
        assert "ZeroDivisionError" in r.message_en
        assert "花子" not in r.message_ja + r.message_en and "2015" not in r.message_ja + r.message_en


def test_an_unreachable_database_is_an_error_not_a_rejection(tmp_path, registry):
    """The machinery is not the department's fault: no rejection, no quarantine, the error raised."""
    import psycopg

    month = "2034-02"
    path = _inbox(tmp_path, month, registry)
    with pytest.raises(psycopg.OperationalError):
        _load(tmp_path, month, registry, "postgresql://loader@127.0.0.1:9/warehouse?connect_timeout=2", "fc-down")
    assert path.is_file() and not (tmp_path / "quarantine").exists()


def _mutations(raw: bytes, rng: random.Random):
    """Malformations of a valid file: cuts, flipped bytes, stray quotes, NULs, line breaks, runs."""
    yield "cut", raw[: rng.randrange(1, len(raw))]
    i = rng.randrange(len(raw))
    yield "flip", raw[:i] + bytes([raw[i] ^ rng.randrange(1, 256)]) + raw[i + 1 :]
    i = rng.randrange(len(raw))
    yield "insert", raw[:i] + rng.choice([b'"', b"\x00", b"\r", b"\n", b",", b"\xff", b"\x81"]) + raw[i:]
    i = rng.randrange(len(raw))
    yield "run", raw[:i] + bytes([rng.randrange(256)]) * rng.choice([10, 500, 3_000]) + raw[i:]
    i, j = sorted(rng.sample(range(len(raw)), 2))
    yield "drop", raw[:i] + raw[j:]


def test_any_malformation_ends_loaded_or_rejected(tmp_path, registry, loader_dsn, wh_conn):
    """The class, not the examples: 150 random malformations of a valid file (fixed seed). Each
    ends either loaded (all its rows, this attempt) or rejected (no row of this attempt) — never
    in another exception — and no message carries a value of the file."""
    month = "2034-03"
    spec = registry[SOURCE].file(FILE)
    rows = sample_rows(spec, 8, month)
    values = personal_values(spec, rows)
    rng = random.Random(1616)
    outcomes: dict[str, int] = {}
    build_source(tmp_path / "inbox", month, registry[SOURCE], n=8)
    path = tmp_path / "inbox" / month / SOURCE / FILE
    valid = write_file(path, spec, rows).read_bytes()
    for n in range(30):
        for kind, data in _mutations(valid, rng):
            path.write_bytes(data)  # (the other files are valid and stay: only this one is quarantined)
            run_id = f"fuzz-{n}-{kind}"
            try:
                result = _load(tmp_path, month, registry, loader_dsn, run_id)
            except IngestRejected as exc:
                outcome = "rejected"
                text = " ".join(r.message_ja + r.message_en for r in exc.result.rejections)
                assert not [v for v in values if v in text], f"{run_id}: a value in a message"
                remaining = wh_conn.execute(
                    "select count(*) from raw.fukushi__disability_certificates where run_month = %s and run_id = %s",
                    (month, run_id),
                ).fetchone()[0]
                assert remaining == 0, run_id
            else:
                outcome = "loaded"
                assert result.ok and all(f.rows_loaded == f.rows_read for f in result.files), run_id
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert sum(outcomes.values()) == 150
    assert outcomes.get("rejected", 0) > 75, outcomes
