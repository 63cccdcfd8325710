"""Applying a town's mapping to what a department delivered: the contract's files, row by row.

:func:`read_mapped_source` is what the loader calls instead of reading the contract's file
names: it matches the delivered files to the mapping's inputs, reads each one, builds every
contract file of the source from its inputs (appending several, filtering one into several),
translates each cell (code maps, date styles, constants, the file name) and then runs the
contract's own checks (:func:`mimamori.ingest.validate.check_table`) on the result. It never
raises for the data: every problem becomes a :class:`~mimamori.ingest.validate.Rejection` that
names the file, the rows and the column **as delivered**.

Rows keep their lineage: each contract row knows the delivered file and its row number there,
which the loader writes as ``source_file`` / ``source_row_number``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimamori.ingest.limits import Limits
from mimamori.ingest.parse import ParseError, Table, is_blank
from mimamori.ingest.registry import FileSpec, Source
from mimamori.ingest.validate import (
    _REASON_EN,
    _REASON_JA,
    DeliveredFile,
    ParsedFile,
    Rejection,
    _Rejected,
    check_file,
    check_table,
    make_rejection,
)
from mimamori.sources.dates import YEAR_JA, StyleError, parse_styled_date, parse_styled_month, parse_styled_year
from mimamori.sources.mapping import (
    ColumnRule,
    InputSpec,
    Mapping,
    MappingError,
    OutputSpec,
    Part,
    extract_part,
    normalise_code,
    normalize_value,
)
from mimamori.sources.readers import Delivered, cell_text, header_count, read_input, resolve, where_holds

log = logging.getLogger("mimamori.sources")

#: A cell the mapping could not translate (already reported): the contract check leaves it alone.
FAILED = object()


@dataclass
class _Problems:
    """Rejections collected while mapping, grouped so that each is reported once with all its rows."""

    source: str
    rows: dict[tuple, list[int]] = field(default_factory=lambda: defaultdict(list))
    details: dict[tuple, tuple[str, str]] = field(default_factory=dict)
    counts: dict[tuple, set] = field(default_factory=lambda: defaultdict(set))
    plain: list[Rejection] = field(default_factory=list)

    def add(self, file: str, rule: str, column: str | None, row: int | None, ja: str = "", en: str = "", value=None):
        key = (file, rule, column, ja)
        if row is not None:
            self.rows[key].append(row)
        else:
            self.rows.setdefault(key, [])
        self.details[key] = (ja, en)
        if value is not None:
            self.counts[key].add(value)

    def rejections(self) -> list[Rejection]:
        out = list(self.plain)
        for key, rows in self.rows.items():
            file, rule, column, _ = key
            ja, en = self.details[key]
            kinds = len(self.counts.get(key, ()))
            if kinds:  # how many different values, never which
                ja, en = ja.format(n=kinds), en.format(n=kinds, s="s" if kinds > 1 else "")
            out.append(make_rejection(self.source, file, rule, rows=rows, column=column, detail_ja=ja, detail_en=en))
        return out


def mapping_invalid(source: str, error: MappingError, limit: int = 20) -> list[Rejection]:
    """The rejections of a source whose mapping file does not even read: one per problem (capped)."""
    out = []
    for p in error.problems[:limit]:
        out.append(
            make_rejection(
                source,
                Path(p.path).name,
                "mapping_invalid",
                detail_ja=f"{p.line}行目: {p.message_ja}",
                detail_en=f"line {p.line}: {p.message_en}",
            )
        )
    if len(error.problems) > limit:
        n = len(error.problems) - limit
        out.append(
            make_rejection(
                source,
                Path(error.problems[0].path).name,
                "mapping_invalid",
                detail_ja=f"ほか{n}件",
                detail_en=f"and {n} more",
            )
        )
    return out


def _match_inputs(mapping: Mapping, names: list[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """{input: matching file names} and {file: inputs} (a file two inputs claim is ambiguous)."""
    by_input = {name: [n for n in names if spec.matches(n)] for name, spec in mapping.inputs.items()}
    by_file: dict[str, list[str]] = defaultdict(list)
    for input_name, files in by_input.items():
        for f in files:
            by_file[f].append(input_name)
    return by_input, by_file


def _listing(folder: Path, files: list[Path] | None) -> dict[str, Path]:
    if files is not None:
        return {unicodedata.normalize("NFC", p.name): p for p in files}
    try:
        return {unicodedata.normalize("NFC", p.name): p for p in sorted(folder.iterdir())} if folder.is_dir() else {}
    except OSError:
        return {}


def read_inputs(
    mapping: Mapping, folder: Path, limits: Limits, problems: _Problems, files: list[Path] | None = None
) -> dict[str, Delivered | None]:
    """Every input's delivered file, read; None where it is missing, ambiguous or unreadable (reported)."""
    listing = _listing(folder, files)
    by_input, by_file = _match_inputs(mapping, list(listing))
    out: dict[str, Delivered | None] = {}
    for name, spec in mapping.inputs.items():
        matched = by_input[name]
        if not matched:
            problems.add(
                spec.pattern_text,
                "missing_file",
                None,
                None,
                f"「{spec.pattern_text}」に合うファイルが {folder.name}/ にありません",
                f"no file matching {spec.pattern_text} in {folder.name}/",
            )
            out[name] = None
            continue
        if len(matched) > 1:
            problems.add(
                spec.pattern_text,
                "ambiguous_file",
                None,
                None,
                f"入力「{name}」の「{spec.pattern_text}」に{len(matched)}ファイルが合います（1つだけにしてください）",
                f"{len(matched)} files match input {name} ({spec.pattern_text}); one is expected",
            )
            out[name] = None
            continue
        file = matched[0]
        if len(by_file[file]) > 1:
            problems.add(
                file,
                "ambiguous_file",
                None,
                None,
                f"入力 {'・'.join(by_file[file])} のどれのファイルか決まりません",
                f"the file matches inputs {', '.join(by_file[file])}",
            )
            out[name] = None
            continue
        out[name] = _read_one(listing[file], spec, limits, problems)
    return out


def _read_one(path: Path, spec: InputSpec, limits: Limits, problems: _Problems) -> Delivered | None:
    name = unicodedata.normalize("NFC", path.name)
    try:
        got = read_input(path, spec, limits)
    except _Rejected as exc:
        if exc.rule == "missing_file":  # vanished since the listing
            exc.detail_ja, exc.detail_en = "一覧の後に見当たらなくなりました", "gone since the folder was listed"
        problems.plain.append(
            make_rejection(
                problems.source, name, exc.rule, rows=exc.rows, detail_ja=exc.detail_ja, detail_en=exc.detail_en
            )
        )
        return None
    except Exception as exc:  # noqa: BLE001 - whatever nobody foresaw: the file is rejected, never the run
        log.error("%s: unexpected %s while reading %s", problems.source, exc.__class__.__name__, spec.name)
        detail = exc.__class__.__name__
        problems.plain.append(
            make_rejection(problems.source, name, "internal_error", detail_ja=detail, detail_en=detail)
        )
        return None
    _structure_problems(got, limits, problems)
    return got


def _structure_problems(got: Delivered, limits: Limits, problems: _Problems) -> None:
    spec = got.input
    first_ja, first_en = ("見出しは", "header") if got.header is not None else ("最初のデータ行は", "first data row")
    found = [
        (r, "layout_mismatch", None, "行がレイアウトの終わりより短い", "the line is shorter than the layout")
        for r in got.short_rows
    ]
    found += [
        (
            r,
            "layout_mismatch",
            None,
            f"行が line_length（{spec.line_length}）より長い",
            f"the line is longer than line_length ({spec.line_length})",
        )
        for r in got.long_rows
    ]
    found += [
        (
            r,
            "layout_mismatch",
            spec.layout[i].label,
            "項目の境目が全角文字の途中にあります",
            "a field boundary cuts a full-width character",
        )
        for r, fields in sorted(got.layout_bad.items())
        for i in sorted(fields)
    ]
    found += [
        (r, "field_count", None, f"{first_ja}{got.width}項目", f"the {first_en} has {got.width} fields")
        for r in got.width_rows
    ]
    big: dict[int, list[int]] = defaultdict(list)
    for number, row in zip(got.numbers, got.records, strict=True):
        for i, v in enumerate(row):
            if v is not None and len(str(v)) > limits.max_field_chars:
                big[i].append(number)
    found += [
        (
            r,
            "field_too_large",
            _column_label(got, i),
            f"上限は{limits.max_field_chars}文字",
            f"the limit is {limits.max_field_chars} characters",
        )
        for i, rows in sorted(big.items())
        for r in rows
    ]
    for row, rule, column, ja, en in found:
        problems.add(got.name, rule, column, row, ja, en)


def _column_label(got: Delivered, index: int) -> str:
    spec = got.input
    if spec.format == "fixed":
        return spec.layout[index].label
    if got.header is not None and index < len(got.header) and got.header[index]:
        return got.header[index]
    return f"{index + 1}列目"


@dataclass
class _Built:
    records: list[list[Any]] = field(default_factory=list)
    origins: list[tuple[str, int]] = field(default_factory=list)  # (delivered file, row)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # file → contract column → label
    lines: dict[str, dict[str, int]] = field(default_factory=dict)  # file → contract column → mapping line
    failed: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))  # column → row ids
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _label(rule: ColumnRule | None, got: Delivered) -> str:
    if rule is None:
        return "（対応なし）"
    if rule.sources and got.input.format == "fixed":
        parts = []
        for ref in rule.sources:
            index = resolve(ref, got)
            parts.append(got.input.layout[index].label if index is not None else ref.label)
        return "＋".join(parts)
    return rule.label


def _convert(rule: ColumnRule, value: Any, got: Delivered, row: int, problems: _Problems) -> Any:
    """One delivered value → the contract's cell (text in a form the contract parses), or FAILED."""
    col = rule.column
    label = _label(rule, got)
    if rule.normalize and isinstance(value, str):
        value = normalize_value(value, rule.normalize)
    if not is_blank(value) and rule.extract is not None:
        part = extract_part(rule.extract, cell_text(value))
        if part is None:
            problems.add(
                got.name,
                "extract_mismatch",
                label,
                row,
                f"対応表{rule.extract_line}行目の extract に合わない値が{{n}}種類",
                f"{{n}} distinct value{{s}} not matching the extract on mapping line {rule.extract_line}",
                value=normalise_code(cell_text(value)),
            )
            return FAILED
        value = part
    if is_blank(value):
        if rule.codes is not None and "" in rule.codes:
            return rule.codes[""]
        return rule.blank
    if rule.codes is not None:
        key = normalise_code(cell_text(value))
        if key not in rule.codes:
            problems.add(
                got.name,
                "unmapped_code",
                label,
                row,
                f"対応表{rule.codes_line}行目のコード表にない値が{{n}}種類",
                f"{{n}} distinct value{{s}} missing from the code map on mapping line {rule.codes_line}",
                value=key,
            )
            return FAILED
        return rule.codes[key]
    if rule.year is None and rule.date is None:
        return value
    try:
        if rule.year is not None:
            return str(parse_styled_year(value, rule.year))
        if col.base_type == "month":
            return parse_styled_month(value, rule.date).strftime("%Y-%m")
        return parse_styled_date(value, rule.date).isoformat()
    except StyleError:
        if rule.year is not None:
            ja = f"対応表{rule.line}行目の年の書き方「{YEAR_JA[rule.year]}」ではありません"
            en = f"not a year in the declared style year: {rule.year} (mapping line {rule.line})"
        else:
            ja = f"対応表{rule.line}行目の書き方「{rule.date.label_ja}」ではありません"
            en = f"not in the declared style {rule.date.name} (mapping line {rule.line})"
        problems.add(got.name, "date_style", label, row, ja, en)
        return FAILED
    except ParseError as exc:
        problems.add(
            got.name,
            "bad_value",
            label,
            row,
            f"型 {col.type}: {_REASON_JA.get(exc.reason, exc.reason)}",
            f"type {col.type}: {_REASON_EN.get(exc.reason, exc.reason)}",
        )
        return FAILED


def _build(out: OutputSpec, part: Part, got: Delivered, rows: list[int], problems: _Problems, built: _Built) -> None:
    """Append the contract rows one part (input) gives an output."""
    rules = out.rules_for(part)
    spec = out.spec
    labels = built.labels.setdefault(got.name, {})
    lines = built.lines.setdefault(got.name, {})
    plans: list[tuple[str, ColumnRule | None, list[int] | None, Any]] = []
    for col in spec.columns:
        rule = rules.get(col.column)
        labels[col.column] = _label(rule, got)
        if rule is not None:
            lines[col.column] = rule.line
        if rule is None:
            plans.append((col.column, None, None, None))
        elif rule.constant is not None:
            plans.append((col.column, rule, None, rule.constant))
        elif rule.file_pattern is not None:
            m = rule.file_pattern.search(got.name)
            if m is None:
                problems.add(
                    got.name,
                    "mapping_column",
                    labels[col.column],
                    None,
                    f"ファイル名が対応表{rule.line}行目の from_file_name に合いません",
                    f"the file name does not match from_file_name (mapping line {rule.line})",
                )
                plans.append((col.column, rule, None, FAILED))
            else:
                plans.append((col.column, rule, None, m.group(1) if m.re.groups else m.group(0)))
        else:
            indexes = []
            for ref in rule.sources:
                index = resolve(ref, got)
                if index is None:
                    n = header_count(ref, got)
                    ja = (
                        f"見出し「{ref.name}」が{n}列あります"
                        if n > 1
                        else f"対応表{ref.line}行目の「{ref.label}」がファイルにありません"
                    )
                    problems.add(
                        got.name,
                        "mapping_column",
                        ref.label,
                        None,
                        ja,
                        f"column {ref.label} (mapping line {ref.line}) not found",
                    )
                indexes.append(index)
            plans.append(
                (col.column, rule, None if None in indexes else indexes, None if None not in indexes else FAILED)
            )
    width_rows = set(got.width_rows)
    for i in rows:
        number = got.numbers[i]
        record = got.records[i]
        row_id = len(built.records) + 1
        cells: list[Any] = []
        bad = got.layout_bad.get(number, set())
        for column, rule, indexes, fixed in plans:
            if rule is None:
                cells.append(None)
                continue
            if indexes is None:
                value = fixed
                if value is not FAILED and value is not None:
                    value = _convert(rule, value, got, number, problems) if rule.file_pattern is not None else value
            elif number in width_rows or any(j in bad for j in indexes):
                value = FAILED  # reported as field_count / layout_mismatch for the whole row
            else:
                raw = [record[j] if j < len(record) else None for j in indexes]
                if len(raw) == 1:
                    value = raw[0]
                else:
                    parts = [cell_text(v).strip() for v in raw if not is_blank(v)]
                    value = rule.join.join(parts) if parts else None
                value = _convert(rule, value, got, number, problems)
            if value is FAILED:
                built.failed[column].add(row_id)
                value = None
            elif isinstance(value, dt.datetime | dt.date) and rule.column.base_type in ("text", "id"):
                value = value.isoformat()
            cells.append(value)
        built.records.append(cells)
        built.origins.append((got.name, number))
        built.counts[got.name] += 1


#: A mapped column whose non-blank values fail the contract's type this often in one delivered file (at
#: least this many rows) is the mapping's mistake — a code map or conversion left out (学年 "3年", 認定年度
#: "令和7年度" into an int column) — and goes to IT as ``mapping_type``; scattered failures stay the data's.
MAPPING_TYPE_SHARE = 0.9
MAPPING_TYPE_MIN_ROWS = 3


def _type_misfits(
    rejections: list[Rejection], built: _Built, spec: FileSpec, mapping: Mapping, source: str
) -> tuple[list[Rejection], list[Rejection]]:
    """(the contract check's rejections left for the data owner, ``mapping_type`` ones for IT).

    Decided per contract column and delivered file from the counts alone: the ``bad_value`` rows of the
    column against its non-blank cells in that file. The IT rejection names the mapping file and line of
    the column and the delivered file and column, with the counts — never a value.
    """
    columns = {c.header: (i, c) for i, c in enumerate(spec.columns)}
    failing: dict[str, set[int]] = defaultdict(set)
    for r in rejections:
        if r.rule == "bad_value" and r.column in columns:
            failing[r.column].update(r.rows)
    it: list[Rejection] = []
    moved: dict[str, set[int]] = defaultdict(set)
    for header, rows in failing.items():
        i, col = columns[header]
        filled: dict[str, int] = defaultdict(int)
        for (file, _), record in zip(built.origins, built.records, strict=True):
            if i < len(record) and not is_blank(record[i]):
                filled[file] += 1
        bad: dict[str, set[int]] = defaultdict(set)
        for row_id in rows:
            bad[built.origins[row_id - 1][0]].add(row_id)
        for file, ids in sorted(bad.items()):
            n, total = len(ids), filled[file]
            if n < MAPPING_TYPE_MIN_ROWS or n < MAPPING_TYPE_SHARE * total:
                continue
            line = built.lines.get(file, {}).get(col.column, 0)
            label = built.labels.get(file, {}).get(col.column, header)
            where = f"{mapping.path.name} {line}行目" if line else mapping.path.name
            where_en = f"{mapping.path.name} line {line}" if line else mapping.path.name
            it.append(
                make_rejection(
                    source,
                    file,
                    "mapping_type",
                    column=label,
                    detail_ja=f"対応表 {where} の契約の列「{header}」（型 {col.type}）: 値のある{total}行のうち{n}行が"
                    "型に合いません。codes: などで契約の形に変換してください（docs/contract/values.md）",
                    detail_en=f"mapping {where_en}, contract column {header} (type {col.type}): {n} of {total} "
                    "non-blank rows do not fit the type; convert them with codes: or the like (docs/contract/values.md)",
                )
            )
            moved[header].update(ids)
    if not moved:
        return rejections, it
    kept = []
    for r in rejections:
        if r.rule == "bad_value" and r.column in moved:
            rows = [x for x in r.rows if x not in moved[r.column]]
            if not rows:
                continue
            r = dataclasses.replace(r, rows=rows)
        kept.append(r)
    return kept, it


def _translate(rej: Rejection, built: _Built, spec: FileSpec, source: str, files: list[str]) -> list[Rejection]:
    """A rejection of the contract check, renamed to the delivered file(s), rows and columns."""
    by_file: dict[str, list[int]] = defaultdict(list)
    for row_id in rej.rows:
        file, number = built.origins[row_id - 1]
        by_file[file].append(number)
    targets = by_file.items() if by_file else [(f, []) for f in files]
    out = []
    headers = {c.header: c.column for c in spec.columns}
    detail_ja, detail_en = rej.detail_ja, rej.detail_en
    if rej.rule == "empty_file":  # the delivered file has rows: none of them went to this contract file
        detail_ja = f"契約の{spec.file}になる行が1行もありません"
        detail_en = f"no row of it became the contract's {spec.file}"
    for file, rows in targets:
        column = rej.column
        if column is not None:
            labels = built.labels.get(file, {})
            column = "+".join(labels.get(headers.get(h, ""), h) for h in column.split("+"))
        out.append(
            make_rejection(source, file, rej.rule, rows=rows, column=column, detail_ja=detail_ja, detail_en=detail_en)
        )
    return out


def _route(
    mapping: Mapping, delivered: dict[str, Delivered | None], problems: _Problems
) -> dict[tuple[str, str], list[int]]:
    """{(output file, input): row indexes} after each output's where; unrouted rows are reported."""
    routes: dict[tuple[str, str], list[int]] = {}
    for name, got in delivered.items():
        if got is None:
            continue
        outs = [o for o in mapping.outputs if any(p.input == name for p in o.parts)]
        taken = [False] * len(got.records)
        filtered = any(o.where is not None for o in outs)
        for o in outs:
            if o.where is None:
                routes[(o.file, name)] = list(range(len(got.records)))
                taken = [True] * len(got.records)
                continue
            if where_column_missing(o.where, got):
                problems.add(
                    got.name,
                    "mapping_column",
                    o.where.column.label,
                    None,
                    f"対応表{o.where.line}行目の where の列「{o.where.column.label}」がファイルにありません",
                    f"the where column {o.where.column.label} (line {o.where.line}) is not in the file",
                )
                routes[(o.file, name)] = []
                taken = [True] * len(got.records)
                continue
            picked = [i for i, r in enumerate(got.records) if where_holds(o.where, r, got)]
            for i in picked:
                taken[i] = True
            routes[(o.file, name)] = picked
        if filtered:
            for i, ok in enumerate(taken):
                if not ok:
                    problems.add(
                        got.name,
                        "unrouted_row",
                        None,
                        got.numbers[i],
                        "どの出力の where にも当てはまりません（不要な行は skip に書きます）",
                        "no output's where takes the row (skip rows that are not needed)",
                    )
    return routes


def where_column_missing(where, got: Delivered) -> bool:
    return resolve(where.column, got) is None


def read_mapped_source(
    mapping: Mapping,
    source: Source,
    folder: Path,
    run_month: str,
    limits: Limits,
    *,
    files: list[Path] | None = None,
) -> list[ParsedFile]:
    """Every contract file of ``source`` as the town delivers it: mapped, checked, with lineage.

    A contract file the mapping has no output for is read as the contract says (its own name in
    ``folder``). ``files``: the delivered files to use instead of listing ``folder`` (dry run).
    """
    problems = _Problems(source.source)
    delivered = read_inputs(mapping, folder, limits, problems, files)
    routes = _route(mapping, delivered, problems)
    mapping_sha = hashlib.sha256(mapping.text.encode("utf-8")).hexdigest()
    parsed_files: list[ParsedFile] = []
    for spec in source.files:
        out = mapping.output(spec.file)
        if out is None:
            parsed_files.append(check_file(source, spec, folder / spec.file, run_month, limits))
            continue
        built = _Built()
        present: list[Delivered] = []
        for part in out.parts:
            got = delivered.get(part.input)
            if got is None:
                continue
            present.append(got)
            _build(out, part, got, routes.get((out.file, part.input), []), problems, built)
        parsed = ParsedFile(spec=spec, path=present[0].path if present else folder / spec.file)
        parsed.mapping = str(mapping.path)
        parsed.mapping_sha256 = mapping_sha
        parsed.delivered = [
            DeliveredFile(d.name, d.path, d.sha256, built.counts.get(d.name, 0), built.labels.get(d.name, {}))
            for d in present
        ]
        if len(present) != len(out.parts):
            parsed_files.append(parsed)  # an input is missing or unreadable: reported above
            continue
        table = Table(header=spec.headers, records=built.records, row_numbers=list(range(1, len(built.records) + 1)))
        checked = check_table(source.source, spec, table, run_month, skip_cells=built.failed)
        names = [d.name for d in present]
        kept, misfits = _type_misfits(checked.rejections, built, spec, mapping, source.source)
        parsed.rejections.extend(misfits)
        for rej in kept:
            parsed.rejections.extend(_translate(rej, built, spec, source.source, names))
        parsed.rows_read = len(built.records)
        parsed.rows = checked.rows
        parsed.row_numbers = [number for _, number in built.origins]
        parsed.row_files = [file for file, _ in built.origins]
        parsed.sha256 = (
            present[0].sha256
            if len(present) == 1
            else hashlib.sha256("".join(sorted(d.sha256 for d in present)).encode()).hexdigest()
        )
        parsed_files.append(parsed)
    # Problems found while reading or mapping belong to the source as a whole (a delivered file
    # may feed several contract files): they travel with the first contract file the mapping makes (a file it
    # does not make is not shown by the dry run: a problem put there was hidden when the mapping skipped the first).
    extra = problems.rejections()
    if extra and parsed_files:
        made = [p for p in parsed_files if mapping.output(p.spec.file) is not None] or parsed_files
        made[0].rejections[:0] = extra
    return parsed_files


def mapped_input_names(mapping: Mapping, folder: Path) -> set[str]:
    """The delivered file names the mapping's inputs take (the rest of the folder is ignored)."""
    listing = _listing(folder, None)
    return {n for n in listing if any(spec.matches(n) for spec in mapping.inputs.values())}
