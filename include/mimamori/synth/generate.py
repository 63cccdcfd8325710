"""Generate the synthetic town: inbox extracts for consecutive months, ground truth and a manifest."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path

from . import contract as contract_mod
from . import faults as faults_mod
from . import noise, reference, truth, writers
from .dates import add_months, as_of_date, last_day, month_range, parse_month
from .population import Town
from .rand import rng as keyed_rng
from .rand import u
from .records import build_month

FLAG_TYPES = tuple(reference.TYPES)
#: The town's life (registrations, certificates, checkups, …) is drawn up to the end of this many
#: months from its first month, whatever end month is asked for, so a longer run of the same seed
#: and first month is the same town with more months: `make town MONTHS=3 MONTH=2026-11` continues
#: the demo's 2026-09..2026-10 with the same people (docs/synthetic-town.md). An end month beyond
#: the horizon moves it to that month: a different town.
HORIZON_MONTHS = 24


def horizon_month(first_month: str, end_month: str) -> str:
    """The last month the town's facts are drawn for: first month + HORIZON_MONTHS - 1, or later."""
    y, m = parse_month(first_month)
    year, month = add_months(y, m, HORIZON_MONTHS - 1)
    anchored = f"{year:04d}-{month:02d}"
    return max(anchored, end_month)


@dataclass
class Summary:
    seed: int
    scale: float
    months: list[str]
    end_month: str
    faults: list[str]
    residents: dict[str, int] = field(default_factory=dict)
    households: dict[str, int] = field(default_factory=dict)
    children_in_scope: dict[str, int] = field(default_factory=dict)
    events: dict[str, dict] = field(default_factory=dict)
    rows: dict[str, dict[str, int]] = field(default_factory=dict)  # month → "source/file" → data rows
    flagged: dict[str, dict[str, int]] = field(default_factory=dict)  # month → type → children (+ "any")
    same_name_pairs: int = 0
    twins_in_scope: int = 0
    fault_entries: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    bytes_written: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def extract_date(seed: int, month: str, source: str, file: str) -> date:
    """抽出日: a day 1–10 of the following month, or (10%) the last day of the month; fixed per file."""
    y, m = parse_month(month)
    x = u(seed, "extract", month, source, file)
    if x < 0.1:
        return last_day(y, m)
    ny, nm = add_months(y, m, 1)
    return date(ny, nm, 1 + int((x - 0.1) / 0.9 * 10))


def generate(
    out_dir,
    *,
    seed: int = 42,
    scale: float = 1.0,
    months: int = 3,
    end_month: str = "2026-10",
    faults=(),
    progress=None,
) -> Summary:
    """Write ``inbox/``, ``truth/`` and ``manifest.json`` under `out_dir`; return a Summary.

    `faults` are strings ``KIND`` or ``KIND:TARGET`` (see faults.KINDS), applied to the last month.
    `progress` is a callable taking a line of text (counts only), or None.
    """
    t0 = time.monotonic()
    if months < 1:
        raise ValueError("months must be ≥ 1")
    if scale <= 0:
        raise ValueError("scale must be > 0")
    parse_month(end_month)
    out = Path(out_dir)
    say = progress or (lambda _line: None)
    spec = contract_mod.load()
    fault_list = [faults_mod.parse(f, spec) for f in faults]
    for sub in ("inbox", "truth"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    out.mkdir(parents=True, exist_ok=True)
    month_list = month_range(end_month, months)
    summary = Summary(seed=seed, scale=scale, months=month_list, end_month=end_month, faults=list(faults))
    say(f"[synth] seed={seed} scale={scale} months={month_list[0]}..{month_list[-1]}")
    horizon = horizon_month(month_list[0], end_month)
    town = Town(seed, scale, month_list[0], horizon)
    town.build()
    summary.same_name_pairs = town.same_name_pairs
    say(
        f"[synth] initial town: {sum(1 for p in town.persons.values() if p.left_on is None)} residents, "
        f"{sum(1 for h in town.households.values() if h.members)} households"
    )
    manifest_files: dict[str, dict] = {}
    for month in month_list:
        last = month == month_list[-1]
        as_of = as_of_date(month)
        summary.events[month] = town.advance(month)
        recs = build_month(town, month, as_of)
        spine = recs[("jumin", "住民.csv")]
        summary.residents[month] = len(spine)
        summary.households[month] = len({r.values["世帯番号"] for r in spine})
        truth_rows = _write_inbox(out, town, seed, month, last, recs, spec, fault_list, summary, manifest_files, say)
        _write_truth(out, town, month, as_of, last, recs, truth_rows, summary, say)
    summary.seconds = round(time.monotonic() - t0, 2)
    _write_manifest(out, seed, scale, month_list, end_month, horizon, summary, manifest_files)
    say(f"[synth] done in {summary.seconds:.1f}s, {summary.bytes_written / 1e6:.1f} MB")
    return summary


def _write_inbox(out, town, seed, month, last, recs, spec, fault_list, summary, manifest_files, say) -> list:
    """Render, fault and write the month's extracts under inbox/; return the truth rows (which person and noise
    each written row carries)."""
    atena_list = [r.atena for r in recs[("jumin", "住民.csv")]]
    context = {
        "atena_list": atena_list,
        "student_nos": {r.values["児童生徒番号"] for r in recs[("gakko", "学齢簿.csv")]},
    }
    truth_rows = []
    summary.rows[month] = {}
    source_done: dict[str, int] = {}
    for (source, file), fs in spec.items():
        rows = recs[(source, file)]
        cells = noise.render(town, file, rows, fs.types, context)
        ex = extract_date(seed, month, source, file)
        ex_cell = (
            datetime(ex.year, ex.month, ex.day)
            if fs.encoding == "xlsx"
            else noise.fmt_date(ex, noise.FILE_DATE_STYLE[file])
        )
        for c in cells:
            c.append(ex_cell)
        prep = faults_mod.Prepared(
            spec=fs,
            headers=list(fs.headers),
            rows=cells,
            truth=[[r.atena or "", list(r.noise)] for r in rows],
            encoding=fs.encoding,
            extract_on=ex,
        )
        skip = False
        if last:
            frng = keyed_rng(seed, "fault", month, source, file)
            for f in fault_list:
                if f.kind == "missing_source" and f.source == source:
                    skip = True
                elif f.source == source and f.file == file:
                    faults_mod.apply(f, prep, month, frng)
        summary.fault_entries.extend(prep.applied)
        rel = f"inbox/{month}/{source}/{file}"
        summary.rows[month][f"{source}/{file}"] = len(prep.rows) if not skip else 0
        if skip:
            continue
        if prep.encoding == "xlsx":
            data = writers.xlsx_bytes(prep.headers, prep.rows)
        else:
            data = writers.csv_bytes(prep.headers, prep.rows, prep.encoding)
        if "truncate" in prep.raw_transform:
            data = data[: len(data) // 2]
        if "empty" in prep.raw_transform:
            data = b""
        writers.write(out / rel, data)
        summary.bytes_written += len(data)
        manifest_files[rel] = {"rows": len(prep.rows), "sha256": hashlib.sha256(data).hexdigest()}
        for i, (atena, codes) in enumerate(prep.truth):
            truth_rows.append((source, file, i + 2, atena, "|".join(codes)))
        source_done[source] = source_done.get(source, 0) + len(prep.rows)
    for f in fault_list:
        if last and f.kind == "missing_source":
            summary.fault_entries.append(
                {
                    "kind": f.kind,
                    "target": f.target,
                    "file": f.source,
                    "rows": [],
                    "detail": f"folder inbox/{month}/{f.source} absent",
                }
            )
    for source, n in source_done.items():
        say(f"[synth] {month} {source}: {n} rows")
    return truth_rows


def _write_truth(out, town, month, as_of, last, recs, truth_rows, summary, say) -> None:
    """Write truth/<month>/ (records.csv, children.csv, expected_flags.csv) and the month's counts."""
    spine = recs[("jumin", "住民.csv")]
    atena_list = [r.atena for r in spine]
    tdir = out / "truth" / month
    writers.write(tdir / "records.csv", truth.csv_text(truth.RECORD_HEADERS, truth_rows))
    children = []
    scope = [town.persons[a] for a in atena_list if town.persons[a].age(as_of) <= 18]
    for p in scope:
        lat = truth.child_latent(town, p, as_of)
        children.append((p.atena, p.setai, p.age(as_of), *lat.values(), int(p.twin), int(p.same_name_pair)))
    writers.write(tdir / "children.csv", truth.csv_text(truth.CHILD_HEADERS, children))
    flags = reference.evaluate(town, recs, as_of)
    flag_rows = [(a, *(f[t] for t in FLAG_TYPES), int(any(f.values()))) for a, f in sorted(flags.items())]
    writers.write(tdir / "expected_flags.csv", truth.csv_text(("atena_no", *FLAG_TYPES, "any"), flag_rows))
    summary.children_in_scope[month] = len(scope)
    summary.flagged[month] = {t: sum(f[t] for f in flags.values()) for t in FLAG_TYPES}
    summary.flagged[month]["any"] = sum(1 for f in flags.values() if any(f.values()))
    if last:
        summary.twins_in_scope = sum(1 for p in scope if p.twin)
    fl = summary.flagged[month]
    say(
        f"[synth] {month}: residents {len(spine)}, children 0-18 {len(scope)}, "
        f"flagged {fl['any']} ({100 * fl['any'] / max(1, len(scope)):.1f}%)"
    )


def _write_manifest(out, seed, scale, month_list, end_month, horizon, summary, manifest_files) -> None:
    """Write manifest.json: the run's parameters, the faults applied and each inbox file's rows and sha256."""
    manifest = {
        "generator": "mimamori.synth",
        "seed": seed,
        "scale": scale,
        "months": month_list,
        "end_month": end_month,
        "horizon_month": horizon,
        "faults": summary.fault_entries,
        "files": manifest_files,
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )


def stderr_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
