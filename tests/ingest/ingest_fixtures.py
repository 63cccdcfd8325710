"""A tiny, contract-exact inbox builder for the ingestion tests (synthetic values only).

Headers, order, encodings and types come from the registry, so the files are what the contract
describes; values are made-up (架空) and vary by row so that keys are unique. ``PERSONAL_COLUMNS``
lists the columns whose values must never show up in a message.
"""

from __future__ import annotations

import calendar
import datetime as dt
from pathlib import Path
from typing import Any

from mimamori.ingest.registry import ColumnSpec, FileSpec, Source

PERSONAL_COLUMNS = {
    "name",
    "name_kana",
    "address",
    "birth_date",
    "atena_no",
    "recipient_atena_no",
    "mother_atena_no",
    "child_atena_no",
    "student_no",
}

_NAMES = ["見守　花子", "架空　太郎", "試験　次郎", "髙橋　一葉", "斎藤　実"]
_KANA = ["ミマモリ　ハナコ", "カクウ　タロウ", "シケン　ジロウ", "ﾀｶﾊｼ ｶｽﾞﾊ", "サイトウ　ミノル"]
# Every date form the domain names, cycled over rows (all before the extraction date).
_BIRTH_FORMS = [
    "2015-04-01",
    "2016/5/2",
    "20170603",
    "平成30年7月4日",
    "H26.8.5",
    "R2/9/6",
    "令和元年5月7日",
    "２０１８／１０／８",
    "昭和60年1月9日",
    "Ｈ２７．４．１０",
]


def month_first_last(run_month: str) -> tuple[dt.date, dt.date]:
    y, m = map(int, run_month.split("-"))
    first = dt.date(y, m, 1)
    return first, first.replace(day=calendar.monthrange(y, m)[1])


def extraction_date(run_month: str) -> dt.date:
    """The 5th of the following month: inside the delivery window."""
    return month_first_last(run_month)[1] + dt.timedelta(days=5)


def value_for(col: ColumnSpec, i: int, run_month: str) -> Any:
    """Synthetic value of row i (0-based) for a column; strings as a department would write them."""
    base = col.base_type
    first, _ = month_first_last(run_month)
    if col.column == "extracted_on":
        return extraction_date(run_month).isoformat()
    if base == "id":
        offset = sum(map(ord, col.column)) % 97
        return f"{(offset + 1) * 100000 + i + 1:08d}"
    if base == "text":
        if col.column == "name":
            return _NAMES[i % len(_NAMES)]
        if col.column == "name_kana":
            return _KANA[i % len(_KANA)]
        if col.column == "address":
            return f"神奈川県足柄上郡開成町架空{i + 1}丁目{i + 2}番"
        return f"架空{col.header}{i + 1}"
    if base == "date":
        if col.column == "birth_date":
            return _BIRTH_FORMS[i % len(_BIRTH_FORMS)]
        return (first - dt.timedelta(days=30 + i)).strftime("%Y/%-m/%-d")
    if base == "date_end":
        return f"{first.year + 3}-03-31"
    if base == "month":
        return run_month if i % 2 == 0 else run_month.replace("-", "/")
    if base == "int":
        return str(i + 1) if i % 2 == 0 else chr(0xFF10 + (i + 1) % 10)  # full-width digit
    if base == "flag":
        return col.flag_labels[i % 2]
    if base == "code":
        codes = list(col.codes)
        return codes[i % len(codes)]
    raise ValueError(col.type)


def sample_rows(spec: FileSpec, n: int, run_month: str) -> list[list[Any]]:
    return [[value_for(col, i, run_month) for col in spec.columns] for i in range(n)]


def write_file(
    path: Path,
    spec: FileSpec,
    rows: list[list[Any]],
    *,
    header: list[str] | None = None,
    encoding: str | None = None,
    newline: str = "\r\n",
) -> Path:
    """Write a file like the department would (CSV in the contract's encoding, or xlsx)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = spec.headers if header is None else header
    encoding = encoding or spec.encoding
    if encoding == "xlsx":
        import openpyxl

        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(header)
        for row in rows:
            out = []
            for col, v in zip(spec.columns, row, strict=False):
                if col.column == "birth_date" and isinstance(v, str) and v[:4].isdigit() and "-" in v:
                    v = dt.datetime.fromisoformat(v)  # a real date cell
                elif col.base_type == "int" and isinstance(v, str) and v.isascii() and v.isdigit():
                    v = int(v)
                out.append(v)
            out.extend(row[len(spec.columns) :])
            ws.append(out)
        wb.save(path)
        return path

    def cell(v: Any) -> str:
        s = "" if v is None else str(v)
        return f'"{s}"' if any(c in s for c in ',"\r\n') else s

    text = newline.join(",".join(cell(v) for v in row) for row in [header, *rows]) + newline
    path.write_bytes(text.encode(encoding))
    return path


def build_source(inbox: Path, run_month: str, source: Source, n: int = 3) -> dict[str, list[list[Any]]]:
    """Write every file of a source for the month; returns {file: rows}."""
    written = {}
    for spec in source.files:
        rows = sample_rows(spec, n, run_month)
        write_file(inbox / run_month / source.source / spec.file, spec, rows)
        written[spec.file] = rows
    return written


def build_month(inbox: Path, run_month: str, registry: dict[str, Source], n: int = 3) -> dict[str, dict]:
    return {name: build_source(inbox, run_month, src, n) for name, src in registry.items()}


def personal_values(spec: FileSpec, rows: list[list[Any]]) -> set[str]:
    """The fixture values that must never appear in a message (as written, and as ISO dates)."""
    out: set[str] = set()
    for row in rows:
        for col, v in zip(spec.columns, row, strict=False):
            if col.column in PERSONAL_COLUMNS and v not in (None, ""):
                out.add(str(v))
                if col.base_type == "date":
                    from mimamori.ingest.parse import parse_date

                    try:
                        out.add(parse_date(str(v)).isoformat())
                    except ValueError:
                        pass
                if col.column == "name":
                    out.update(part for part in str(v).split("　") if len(part) >= 2)
    return out
