"""The same synthetic town delivered in the contract layout and in a vendor layout (issue 21 steps
2–3): こども支援班 written by mimamori.synth.vendor (one merged export split on load, one contract file
from two exports, a headerless file, 和暦 / Excel serial / 元号コード dates, a trailer, a title
line, 抽出日 in the file name) and 住民記録 as a fixed-width CP932 file (positions in bytes, a 全角
character two, header and trailer records), mapped back by the committed towns/mimamori-vendor
mappings.

The whole project is built twice on the real warehouse, once per attempt (the vendor attempt with
its data tests; the contract attempt, which the judged town's build has tested, models only), and
every mart must be the same except lineage columns; separately, the lineage of the vendor attempt points to the
delivered file and row. Failures name tables, columns and counts only, never a value.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import os
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

from mimamori.ingest import ingest_month
from mimamori.synth.vendor import (
    CONTRACT_FILES,
    JUKI_LAYOUT,
    JUMIN,
    SOURCE,
    VENDOR_SOURCES,
    write_vendor_month,
)

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
from mart_fingerprint import mart_tables  # noqa: E402  (tools/ is no package)

TOWN = REPO / "towns" / "mimamori-vendor"
VENDOR_RUN = "vendor-layout-equivalence"
#: Lineage and build columns: where a row came from, not what it says.
LINEAGE = re.compile(r"record_id|source_file|source_row|file_sha256|run_id|loaded_at|built_at|published_at")
MART_SCHEMAS = ("marts", "marts_pseudo")
RAW_KEY = {  # raw table → the column the delivered row's first field holds
    "kodomo_shien__child_rearing_allowance": "recipient_atena_no",
    "kodomo_shien__single_parent_medical": "atena_no",
    "kodomo_shien__childcare_enrolments": "atena_no",
    "kodomo_shien__yotaikyo": "atena_no",
    "kodomo_shien__consultations": "consultation_no",
    "jumin__residents": "atena_no",
}


def _marts(conn) -> dict[str, tuple[list[str], Counter]]:
    """{schema.table: (kept columns, multiset of rows as text)} of every mart table."""
    out = {}
    for schema, table, columns in mart_tables(conn, MART_SCHEMAS, LINEAGE):
        select = ", ".join(f'"{c}"::text' for c in columns)
        rows = conn.execute(f'select {select} from "{schema}"."{table}"').fetchall()
        out[f"{schema}.{table}"] = (columns, Counter(rows))
    return out


def _differences(contract: dict, vendor: dict) -> list[str]:
    """Tables and columns that differ, with row counts: never a value."""
    found = []
    for name in sorted(set(contract) | set(vendor)):
        if name not in contract or name not in vendor:
            found.append(f"{name}: only in the {'contract' if name in contract else 'vendor'} build")
            continue
        (cols, a), (cols_b, b) = contract[name], vendor[name]
        if cols != cols_b:
            found.append(f"{name}: columns differ")
        elif a != b:
            per_column = [
                c
                for i, c in enumerate(cols)
                if Counter(r[i] for r in a.elements()) != Counter(r[i] for r in b.elements())
            ]
            found.append(
                f"{name}: {a.total()} vs {b.total()} rows; columns differing: {', '.join(per_column) or '(combinations)'}"
            )
    return found


def _build(settings, month: str, run_id: str, pseudo_key: str, *, data_tests: bool = True) -> None:
    """The whole project for the attempt: `dbt build` with the data tests of its rows, or (to
    rebuild an attempt whose rows the session's judged town has already tested on this code)
    `dbt run`. Unit tests are left out either way: they read their own fixtures, not the
    attempt, and the judged town's `dbt build` ran every one of them on this code."""
    from mimamori import dbt

    lines: list[str] = []
    # Source tests read every month and attempt of raw (other suites' rows included); the
    # models and their tests read this attempt only, and the marts are what is compared. The
    # pseudonym key is a setting: a copy of the settings carries the judged town's key.
    keyed = dataclasses.replace(settings, pseudo_key=pseudo_key)
    args = ["build", "--exclude", "source:*", "test_type:unit"] if data_tests else ["run"]
    result = dbt.run(keyed, args, run_month=month, run_id=run_id, log=lines.append)
    assert result.ok, f"dbt {args[0]} failed: " + ", ".join(result.failures)


def _delivered_rows(folders: list[Path]) -> dict[str, tuple[str, list[list[str]]]]:
    """{file: (sha256, records by the file's own row number - 1)} of the vendor files; a fixed-width
    record's first field is its first 10 bytes, as the vendor's layout says."""
    out = {}
    for path in (p for folder in folders for p in folder.iterdir()):
        raw = path.read_bytes()
        if path.suffix == ".DAT":
            first = JUKI_LAYOUT[0][1]
            out[path.name] = (
                hashlib.sha256(raw).hexdigest(),
                [[r[:first].decode("cp932")] for r in raw.split(b"\r\n")],
            )
            continue
        text = raw.decode("utf-8-sig") if path.name.startswith(("認可保育", "地域型")) else raw.decode("cp932")
        delimiter = "\t" if path.suffix == ".tsv" else ","
        out[path.name] = (hashlib.sha256(raw).hexdigest(), list(csv.reader(io.StringIO(text), delimiter=delimiter)))
    return out


def test_vendor_layout_builds_the_same_marts_with_lineage_to_the_delivered_rows(
    judged_town, wh_conn, registry, tmp_path
):
    from mimamori.attempts import latest_attempt

    settings, month = judged_town.settings, judged_town.month
    _cleanup(wh_conn, month)  # an earlier, interrupted run's attempt
    contract_run = latest_attempt(wh_conn, month)
    assert contract_run
    inbox = tmp_path / "inbox"
    shutil.copytree(judged_town.town_dir / "inbox" / month, inbox / month)
    written = write_vendor_month(inbox / month)
    folders = [inbox / month / source for source in VENDOR_SOURCES]
    for source, (contract_files, _) in VENDOR_SOURCES.items():
        assert not any((inbox / month / source / f).exists() for f in contract_files)
    assert (len(written[SOURCE]), len(written[JUMIN])) == (5, 1)
    loader_dsn = settings.dsn(role="loader")
    try:
        results = ingest_month(
            month, inbox, loader_dsn, tmp_path / "quarantine", run_id=VENDOR_RUN, registry=registry,
            town=TOWN, log=lambda _: None,
        )  # fmt: skip
        assert all(r.ok for r in results.values()), {
            n: sorted({x.rule for x in r.rejections}) for n, r in results.items()
        }
        _build(settings, month, VENDOR_RUN, judged_town.pseudo_key)
        vendor = _marts(wh_conn)
        # the separate assertion: every raw row of the vendor attempt is its delivered file's row
        delivered = _delivered_rows(folders)
        for raw_table, key in RAW_KEY.items():
            rows = wh_conn.execute(
                f'select source_file, source_row_number, file_sha256, "{key}" from raw.{raw_table}'
                " where run_month = %s and run_id = %s",
                (month, VENDOR_RUN),
            ).fetchall()
            assert rows, raw_table
            wrong = 0
            for file, number, sha, value in rows:
                got = delivered.get(file)
                if got is None or got[0] != sha or got[1][number - 1][0].strip() != value:
                    wrong += 1
            assert wrong == 0, f"{raw_table}: {wrong} of {len(rows)} rows do not point to their delivered row"
        ids = [
            r[0]
            for r in wh_conn.execute(
                "select record_id from staging.stg_kodomo_shien__childcare_enrolments order by source_row_number"
            ).fetchall()
        ]
        assert ids and all(
            re.fullmatch(r"kodomo_shien__childcare_enrolments:(認可保育|地域型)_\d{8}\.(tsv|csv):\d+", i) for i in ids
        )
        residents = wh_conn.execute("select record_id from staging.stg_jumin__residents").fetchall()
        assert residents and all(re.fullmatch(r"jumin__residents:JUKI_\d{8}\.DAT:\d+", r) for (r,) in residents)
    finally:
        _cleanup(wh_conn, month)
        # restore the judged town's build for the rest of the session (it is the contract side);
        # its rows are the judged town's, whose `dbt build` ran every data test on them
        _build(settings, month, contract_run, judged_town.pseudo_key, data_tests=False)
    contract = _marts(wh_conn)
    assert contract and sum(c.total() for _, c in contract.values()) > 0
    differences = _differences(contract, vendor)  # names and counts only: no value in the output
    del contract, vendor
    assert not differences


def test_the_generator_writes_the_vendor_layout_the_committed_mapping_passes(registry, tmp_path):
    """``python -m mimamori.synth --vendor-layout``: every month's こども支援班 and 住民記録 in the
    vendors' files, which the committed mappings' dry runs pass (no mapping problem, no data problem)."""
    import subprocess
    import sys

    from mimamori.sources.check import dry_run

    out = tmp_path / "town"
    subprocess.run(
        [sys.executable, "-m", "mimamori.synth", "--out", str(out), "--scale", "0.1", "--months", "2",
         "--end-month", "2026-10", "--vendor-layout", "--quiet"],
        check=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO / "include")}, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    for month in ("2026-09", "2026-10"):
        folder = out / "inbox" / month / SOURCE
        names = sorted(p.name for p in folder.iterdir())
        assert not set(CONTRACT_FILES) & set(names)
        assert len(names) == 5 and any(n.startswith("YOTAI_") for n in names)
        report = dry_run(TOWN / "sources" / f"{SOURCE}.yaml", registry, [folder], run_month=month)
        assert report.passed, [r.message_en for r in report.it + report.owner] + [p.message_en for p in report.problems]
        assert {f for f, rows, _ in report.files if rows > 0} == set(CONTRACT_FILES)
        assert not report.ignored and not report.not_checked
        folder = out / "inbox" / month / JUMIN
        [name] = [p.name for p in folder.iterdir()]
        assert re.fullmatch(r"JUKI_\d{8}\.DAT", name)
        report = dry_run(TOWN / "sources" / f"{JUMIN}.yaml", registry, [folder], run_month=month)
        assert report.passed, [r.message_en for r in report.it + report.owner] + [p.message_en for p in report.problems]
        assert [f for f, rows, _ in report.files if rows > 0] == ["住民.csv"]
        assert not report.ignored and not report.not_checked


def test_the_committed_fixed_width_mapping_states_the_generators_layout(registry):
    """The vendor's レイアウト表 is written twice, by the generator and in the town's mapping (as a
    town's IT copies it from the vendor's document): the same fields, lengths and byte positions."""
    from mimamori.sources.mapping import parse_mapping

    path = TOWN / "sources" / f"{JUMIN}.yaml"
    spec = parse_mapping(path.read_text(encoding="utf-8"), path, registry).inputs["juki"]
    assert (spec.format, spec.units, spec.encoding) == ("fixed", "bytes", "cp932")
    starts = [1 + sum(n for _, n in JUKI_LAYOUT[:i]) for i in range(len(JUKI_LAYOUT))]
    assert [(f.name, f.start, f.end) for f in spec.layout] == [
        (name, start, start + n - 1) for (name, n), start in zip(JUKI_LAYOUT, starts, strict=True)
    ]
    assert spec.line_length == sum(n for _, n in JUKI_LAYOUT)


def _cleanup(conn, month: str) -> None:
    for (table,) in conn.execute(
        "select table_name from information_schema.columns where table_schema = 'raw' and column_name = 'run_id'"
    ).fetchall():
        conn.execute(f'delete from raw."{table}" where run_month = %s and run_id = %s', (month, VENDOR_RUN))
    for table in ("file_loads", "rejections", "run_steps", "deliveries"):
        conn.execute(f"delete from ingest.{table} where run_month = %s and run_id = %s", (month, VENDOR_RUN))
