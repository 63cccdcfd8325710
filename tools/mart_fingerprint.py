"""Fingerprints of the published marts, to show that a refactoring left them unchanged.

    python tools/mart_fingerprint.py dump --dsn postgresql://... --out before.json
    python tools/mart_fingerprint.py compare before.json after.json

`dump` writes, per table of the mart schemas, its columns (lineage and build columns left out:
where a row came from, not what it says), its row count and a sha256 of its sorted rows. No value
is written or printed, only hashes and counts. `compare` prints one line per table that differs,
is missing on one side or is new, and exits 1 when any differs or is missing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "include"))
from mimamori.db import base_tables  # noqa: E402

#: Lineage and build columns: where a row came from, not what it says.
LINEAGE = re.compile(r"record_id|source_file|source_row|file_sha256|run_id|attempt|loaded_at|built_at|published_at")
MART_SCHEMAS = ("marts", "marts_pseudo")


def mart_tables(conn, schemas=MART_SCHEMAS, lineage: re.Pattern = LINEAGE) -> Iterator[tuple[str, str, list[str]]]:
    """(schema, table, its columns but those `lineage` matches) of every base table in the schemas."""
    for schema, table in base_tables(conn, schemas):
        columns = [
            c
            for (c,) in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
                " order by ordinal_position",
                (schema, table),
            ).fetchall()
            if not lineage.search(c)
        ]
        yield schema, table, columns


def fingerprints(conn, schemas=MART_SCHEMAS) -> dict[str, dict]:
    """{schema.table: {columns, rows, sha256}} of every base table in the schemas (a table whose every
    column is lineage is compared by its row count)."""
    out = {}
    for schema, table, columns in mart_tables(conn, schemas):
        select = ", ".join(f"coalesce(\"{c}\"::text, '\\N')" for c in columns) or "''"
        rows = sorted("\x1f".join(r) for r in conn.execute(f'select {select} from "{schema}"."{table}"').fetchall())
        digest = hashlib.sha256("\x1e".join(rows).encode()).hexdigest()
        out[f"{schema}.{table}"] = {"columns": columns, "rows": len(rows), "sha256": digest}
    return out


def differences(before: dict, after: dict) -> list[str]:
    """A line per table that is missing, new or different: names and counts, never a value."""
    lines = []
    for name in sorted(set(before) | set(after)):
        if name not in after:
            lines.append(f"{name}: missing after")
        elif name not in before:
            lines.append(f"{name}: new (not compared)")
        elif before[name]["columns"] != after[name]["columns"]:
            lines.append(f"{name}: columns differ")
        elif before[name]["sha256"] != after[name]["sha256"]:
            lines.append(f"{name}: rows differ ({before[name]['rows']} → {after[name]['rows']} rows)")
    return lines


def _dump(args) -> int:
    import psycopg

    with psycopg.connect(args.dsn) as conn:
        found = fingerprints(conn)
    Path(args.out).write_text(json.dumps(found, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"{len(found)} tables, {sum(t['rows'] for t in found.values())} rows → {args.out}")
    return 0


def _compare(args) -> int:
    before = json.loads(Path(args.before).read_text(encoding="utf-8"))
    after = json.loads(Path(args.after).read_text(encoding="utf-8"))
    lines = differences(before, after)
    for line in lines:
        print(line)
    same = sum(1 for n in before if n in after and not any(x.startswith(n + ":") for x in lines))
    print(f"{same} of {len(before)} tables identical (columns, row count, hash of the sorted rows)")
    return 1 if any(not x.endswith("(not compared)") for x in lines) else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    dump = sub.add_parser("dump", help="write the fingerprints of a warehouse's marts")
    dump.add_argument("--dsn", required=True, help="a libpq connection string to the warehouse")
    dump.add_argument("--out", required=True, help="the JSON file to write")
    compare = sub.add_parser("compare", help="compare two dumps")
    compare.add_argument("before")
    compare.add_argument("after")
    args = parser.parse_args(argv)
    return _dump(args) if args.command == "dump" else _compare(args)


if __name__ == "__main__":
    sys.exit(main())
