"""Fault injection for the last generated month: one switch per class of bad input (domain.md §2).

A fault is ``KIND`` or ``KIND:TARGET`` where TARGET is ``source`` or ``source/file``. Every applied
fault is listed in the manifest with the file and the data rows (1-based, header = row 1) it touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from .dates import add_months, fmt_date, parse_month

KINDS = (
    "wrong_encoding",
    "missing_column",
    "renamed_column",
    "duplicate_key",
    "future_birth_date",
    "bad_era_date",
    "empty_file",
    "header_only",
    "other_month",
    "truncated_xlsx",
    "missing_source",
)
DEFAULT_TARGET = {
    "wrong_encoding": "fukushi/障害者手帳.csv",
    "missing_column": "gakko/学齢簿.csv",
    "renamed_column": "kodomo_shien/児童扶養手当.csv",
    "duplicate_key": "fukushi/要介護認定.csv",
    "future_birth_date": "jumin/住民.csv",
    "bad_era_date": "gakko/学齢簿.csv",
    "empty_file": "kodomo_shien/保育所入所.csv",
    "header_only": "kodomo_katei/予防接種.csv",
    "other_month": "kodomo_katei/乳幼児健診.csv",
    "truncated_xlsx": "gakko/出欠.xlsx",
    "missing_source": "fukushi",
}
BAD_DATES = ("平成99年13月45日", "令和元年2月30日", "不明", "H31.13.1")


@dataclass
class Fault:
    kind: str
    source: str
    file: str | None  # None for missing_source

    @property
    def target(self) -> str:
        return self.source if self.file is None else f"{self.source}/{self.file}"


@dataclass
class Prepared:
    """One file of the month before writing: headers, cells, and each data row's truth."""

    spec: object
    headers: list
    rows: list  # cells, 抽出日 included
    truth: list  # per data row: [atena, noise codes list]
    encoding: str
    extract_on: date
    raw_transform: list = field(default_factory=list)  # byte-level faults still to apply
    applied: list = field(default_factory=list)  # manifest entries


def parse(spec_text: str, contract: dict) -> Fault:
    kind, _, target = spec_text.partition(":")
    if kind not in KINDS:
        raise ValueError(f"unknown fault {kind!r}; one of: {', '.join(KINDS)}")
    target = target or DEFAULT_TARGET[kind]
    source, _, file = target.partition("/")
    files = [f for (s, f) in contract if s == source]
    if not files:
        raise ValueError(f"fault {kind}: unknown source {source!r}")
    if kind == "missing_source":
        return Fault(kind, source, None)
    if not file:
        if kind == "truncated_xlsx":
            file = next((f for f in files if f.endswith(".xlsx")), "")
        elif kind in ("future_birth_date", "bad_era_date"):
            file = next((f for f in files if "生年月日" in contract[(source, f)].headers), None) or next(
                f for f in files if any(t == "date" for h, t in contract[(source, f)].types.items() if h != "抽出日")
            )
        elif kind == "wrong_encoding":
            file = next(f for f in files if not f.endswith(".xlsx"))
        else:
            file = files[0]
    if (source, file) not in contract:
        raise ValueError(f"fault {kind}: unknown file {target!r}")
    if kind == "truncated_xlsx" and not file.endswith(".xlsx"):
        raise ValueError(f"fault truncated_xlsx needs an .xlsx file, not {file!r}")
    if kind == "wrong_encoding" and file.endswith(".xlsx"):
        raise ValueError("fault wrong_encoding applies to CSV files")
    return Fault(kind, source, file)


def apply(fault: Fault, prep: Prepared, month: str, rng) -> None:
    """Mutate a prepared file per `fault` and record what was done."""
    spec = prep.spec
    entry = {"kind": fault.kind, "target": fault.target, "file": f"{spec.source}/{spec.file}", "rows": [], "detail": ""}
    date_style = _style(prep)
    k = fault.kind
    if k == "wrong_encoding":
        prep.encoding = "cp932" if prep.encoding == "utf-8-sig" else "utf-8"
        entry["detail"] = f"written as {prep.encoding} instead of {spec.encoding}"
    elif k == "missing_column":
        col = next(h for h in spec.headers if h not in spec.keys and h != "抽出日" and spec.types[h] != "id")
        i = prep.headers.index(col)
        prep.headers.pop(i)
        for r in prep.rows:
            r.pop(i)
        entry["detail"] = f"column {col} removed"
    elif k == "renamed_column":
        col = next(
            (h for h in spec.headers if spec.types[h] in ("date", "date_end") and h != "抽出日"), spec.headers[1]
        )
        new = col[:-1] + "年月日" if col.endswith("日") and not col.endswith("年月日") else col + "_2"
        prep.headers[prep.headers.index(col)] = new
        entry["detail"] = f"column {col} renamed to {new}"
    elif k == "duplicate_key":
        n = len(prep.rows)
        picks = sorted(rng.sample(range(n), min(3, n))) if n else []
        for offset, i in enumerate(picks):
            at = i + offset + 1
            prep.rows.insert(at, list(prep.rows[i + offset]))
            prep.truth.insert(at, [prep.truth[i + offset][0], ["fault:duplicate_key"]])
        entry["rows"] = [i + offset + 2 + 1 for offset, i in enumerate(picks)]
        entry["detail"] = f"{len(picks)} rows repeated (key {'+'.join(spec.keys)})"
    elif k in ("future_birth_date", "bad_era_date"):
        col = (
            "生年月日"
            if "生年月日" in prep.headers
            else next(h for h in prep.headers if spec.types.get(h) == "date" and h != "抽出日")
        )
        j = prep.headers.index(col)
        n = len(prep.rows)
        picks = sorted(rng.sample(range(n), min(2, n))) if n else []
        for t, i in enumerate(picks):
            if k == "future_birth_date":
                d = prep.extract_on + timedelta(days=rng.randint(1, 400))
                prep.rows[i][j] = fmt_date(d, date_style) if date_style != "xlsx" else fmt_date(d, "slash")
            else:
                prep.rows[i][j] = BAD_DATES[t % len(BAD_DATES)]
            prep.truth[i][1].append(f"fault:{k}")
        entry["rows"] = [i + 2 for i in picks]
        entry["detail"] = f"column {col}"
    elif k == "other_month":
        y, m = parse_month(month)
        oy, om = add_months(y, m, -2)
        d = date(oy, om, 15)
        j = prep.headers.index("抽出日") if "抽出日" in prep.headers else len(prep.headers) - 1
        for r in prep.rows:
            r[j] = fmt_date(d, date_style) if date_style != "xlsx" else fmt_date(d, "slash")
        prep.extract_on = d
        entry["rows"] = list(range(2, len(prep.rows) + 2))
        entry["detail"] = f"抽出日 {d.isoformat()} (run month {month})"
    elif k in ("empty_file", "header_only"):
        prep.rows.clear()
        prep.truth.clear()
        if k == "empty_file":
            prep.raw_transform.append("empty")
        entry["detail"] = "zero bytes" if k == "empty_file" else "header row only"
    elif k == "truncated_xlsx":
        prep.raw_transform.append("truncate")
        for t in prep.truth:
            t[1].append("fault:truncated_xlsx")
        entry["rows"] = list(range(2, len(prep.rows) + 2))
        entry["detail"] = "file cut to half its bytes"
    prep.applied.append(entry)


def _style(prep: Prepared) -> str:
    from .noise import FILE_DATE_STYLE

    return FILE_DATE_STYLE[prep.spec.file]
