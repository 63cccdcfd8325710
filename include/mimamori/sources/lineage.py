"""Gate results in the words of the delivered files: file, row and column as the department sent them.

The raw gate (mimamori.quality) validates ``raw.<raw_table>``, whose columns are the contract's.
When a town's mapping made the table (``ingest.deliveries`` has rows for the attempt), each
failed check is re-told per delivered file: the rows are ``source_row_number`` of that file (the
loader keeps them), the column is the one the department knows (its own header, ``3列目``, a
fixed-width field and its positions) — never the contract's name for it, which the data owner has
never seen. Without a mapping the item is returned unchanged.
"""

from __future__ import annotations

import re
from functools import lru_cache

ROW_LIST_LIMIT = 20


@lru_cache(maxsize=1)
def _contract_headers() -> dict[str, dict[str, str]]:
    """{raw_table: {column: contract header}} from the registry."""
    from mimamori.ingest.registry import load_registry

    return {
        spec.raw_table: {c.column: c.header for c in spec.columns}
        for src in load_registry().values()
        for spec in src.files
    }


def deliveries(conn, raw_table: str, run_month: str, run_id: str | None) -> dict[str, dict[str, str]]:
    """{delivered file: {contract column: delivered column}} of an attempt's load of ``raw_table``."""
    exists = conn.execute("select to_regclass('ingest.deliveries') is not null").fetchone()[0]
    if not exists or run_id is None:
        return {}
    rows = conn.execute(
        "select delivered_file, columns from ingest.deliveries where run_month = %s and run_id = %s and raw_table = %s"
        " order by delivered_file",
        (run_month, run_id, raw_table),
    ).fetchall()
    return {file: dict(columns or {}) for file, columns in rows}


def _relabel(text: str, column: str | None, labels: dict[str, str], headers: dict[str, str]) -> str:
    """「<contract header>」 → 「<delivered column>」 in a check's sentence."""
    if not column:
        return text
    for part in column.split("+"):
        header, label = headers.get(part), labels.get(part)
        if header and label:
            text = (
                text.replace(f"「{header}」", f"「{label}」")
                .replace(f"（{header}", f"（{label}")
                .replace(f"・{header}", f"・{label}")
            )
    return text


def delivered_items(
    conn, item: dict, raw_table: str, query: str, rows_where: str | None, run_month: str, run_id
) -> list[dict]:
    """One failed gate item → one per delivered file (rows, count and column as delivered)."""
    files = deliveries(conn, raw_table, run_month, run_id)
    if not files:
        return [item]
    headers = _contract_headers().get(raw_table, {})
    column = item.get("column")
    if not rows_where or item.get("error"):
        out = dict(item)
        out["file"] = "、".join(files)
        if column:
            labels = next(iter(files.values()))
            out["column"] = "+".join(labels.get(c, c) for c in column.split("+"))
            out["description_ja"] = _relabel(item["description_ja"], column, labels, headers)
        return [out]
    cte = f"with batch as ({query}) "
    found = conn.execute(
        cte
        + f"select source_file, count(*), (array_agg(source_row_number order by source_row_number))[1:{ROW_LIST_LIMIT}]"
        f" from batch where {rows_where} group by source_file order by source_file"
    ).fetchall()
    out = []
    for file, count, rows in found:
        labels = files.get(file, {})
        new = dict(item)
        new["file"] = file
        new["unexpected_count"] = int(count)
        new["rows"] = list(rows or [])
        if column:
            new["column"] = "+".join(labels.get(c, c) for c in column.split("+"))
            new["description_ja"] = _relabel(item["description_ja"], column, labels, headers)
        out.append(new)
    return out or [item]


_SAFE = re.compile(r"^[a-z][a-z0-9_]*$")


def raw_table_of(suite_name: str) -> str | None:
    """``raw.<source>.<raw_table>`` → ``<raw_table>``."""
    parts = suite_name.split(".")
    if len(parts) == 3 and parts[0] == "raw" and _SAFE.match(parts[2]):
        return parts[2]
    return None
