"""The dry run: a mapping applied to delivered files, every problem found, nothing written.

``python -m mimamori.sources check MAPPING [FILE|FOLDER ...]`` reads the mapping (each mistake
named by its line), then — given files — maps them exactly as the monthly load would and runs the
contract's checks, without a database and without moving a file. Problems are sorted by who must
act: **IT** (the mapping does not fit the files: ``mapping_*``, ``unmapped_code``, ``date_style``,
``extract_mismatch``, ``layout_mismatch``, ``unrouted_row``,
``ambiguous_file``, ``mapping_type``) and the **data owner** (the data
itself: the contract's rules). Messages name files, rows and columns as delivered, never a value.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mimamori.ingest.limits import Limits
from mimamori.ingest.registry import Source
from mimamori.ingest.validate import ParsedFile, Rejection, make_rejection
from mimamori.sources.mapping import Mapping, MappingError, Problem, load_mapping


@dataclass
class Report:
    """What a dry run found. ``passed``: no problem for IT and none for the data owner."""

    mapping_path: Path
    problems: list[Problem] = field(default_factory=list)  # the mapping file itself
    it: list[Rejection] = field(default_factory=list)  # found in the data, the mapping's fault
    owner: list[Rejection] = field(default_factory=list)  # the data's fault
    files: list[tuple[str, int, list[str]]] = field(default_factory=list)  # contract file, rows, delivered
    not_checked: list[str] = field(default_factory=list)  # contract-layout files not given
    not_produced: list[str] = field(default_factory=list)  # contract files of the source no output of the mapping makes
    ignored: list[str] = field(default_factory=list)  # given files no input takes
    run_month: str | None = None
    mapping: Mapping | None = None

    @property
    def mapping_ok(self) -> bool:
        return not self.problems and not self.it

    @property
    def passed(self) -> bool:
        return self.mapping_ok and not self.owner

    @property
    def exit_code(self) -> int:
        """0 passed; 1 the mapping must be fixed (IT); 3 only the data has problems (data owner)."""
        return 0 if self.passed else (1 if not self.mapping_ok else 3)


def _given(paths: list[Path]) -> tuple[Path, list[Path]]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted(q for q in p.iterdir() if q.is_file()))
        else:
            files.append(p)
    folder = files[0].parent if files else Path(".")
    return folder, files


def _infer_month(parsed: list[ParsedFile]) -> str | None:
    """The run month the files' 抽出日 point at (抽出日 falls in the month or the 15 days after)."""
    dates: Counter = Counter()
    for p in parsed:
        try:
            i = [c.column for c in p.spec.columns].index("extracted_on")
        except ValueError:
            continue
        for row in p.rows:
            if row[i] is not None:
                dates[row[i]] += 1
    if not dates:
        return None
    day = dates.most_common(1)[0][0] - dt.timedelta(days=16)
    return f"{day.year:04d}-{day.month:02d}"


def dry_run(
    mapping_path: Path | str,
    registry: dict[str, Source],
    paths: list[Path] | None = None,
    *,
    run_month: str | None = None,
    limits: Limits | None = None,
) -> Report:
    """Check a mapping, and apply it to ``paths`` (files or folders) if given. Writes nothing."""
    from mimamori.sources.apply import read_mapped_source

    mapping_path = Path(mapping_path)
    report = Report(mapping_path)
    try:
        mapping = load_mapping(mapping_path, registry)
    except MappingError as exc:
        report.problems = exc.problems
        return report
    report.mapping = mapping
    made = {o.file for o in mapping.outputs}
    report.not_produced = [s.file for s in registry[mapping.source].files if s.file not in made]
    if not paths:
        return report
    source = registry[mapping.source]
    folder, files = _given([Path(p) for p in paths])
    limits = limits or Limits(
        max_file_bytes=1 << 30, max_rows=5_000_000, max_line_bytes=64 * 1024, max_field_chars=4096
    )
    mapped = {o.file for o in mapping.outputs}
    given = {f.name for f in files}
    month = run_month
    if month is None:
        first = read_mapped_source(mapping, source, folder, "2000-01", limits, files=files)
        month = _infer_month([p for p in first if p.spec.file in mapped]) or "2000-01"
    report.run_month = month
    parsed = read_mapped_source(mapping, source, folder, month, limits, files=files)
    taken = {d.name for p in parsed for d in p.delivered} | {s.file for s in source.files if s.file in given}
    report.ignored = sorted(n for n in given if n not in taken)
    seen: set[tuple] = set()
    checked: list[ParsedFile] = []
    for p in parsed:
        if p.spec.file not in mapped and p.spec.file not in given:
            report.not_checked.append(p.spec.file)
            continue
        checked.append(p)
        report.files.append((p.spec.file, p.rows_read, [d.name for d in p.delivered] or [p.spec.file]))
        for r in p.rejections:
            if r.key() in seen:
                continue
            seen.add(r.key())
            (report.it if r.for_it else report.owner).append(r)
    report.it.extend(_inconsistent(mapping, checked))
    return report


#: An output whose values of a compared column are found in the source's other outputs this rarely (distinct
#: values) is written differently from them: the mapping's to fix (学校 "10:東小学校" against "東小学校").
SHARED_AT_LEAST = 0.1


def compared_columns() -> frozenset[str]:
    """Contract columns identity compares exactly between a record and the resident it is matched to
    (``identity_comparisons`` of dbt_project.yml, kind ``exact``): the same thing must be the same string
    in every file that carries it. Only ``text`` columns of the contract are compared across outputs —
    ids (児童生徒番号) legitimately cover different pupils in different files, codes are the contract's own."""
    from mimamori.identity.match import project_defaults

    return frozenset(c["field"] for c in project_defaults()["comparisons"] if c.get("kind") == "exact")


def _same_form(value) -> str:
    """As identity prepares a ``code`` field before comparing (NFKC, no spaces, upper case)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value))).upper()


def _inconsistent(mapping: Mapping, parsed: list[ParsedFile]) -> list[Rejection]:
    """``mapping_inconsistent``: an output whose compared text column shares (almost) no value with the
    same column in the source's other outputs. Counts, file names and mapping lines only — never a value."""
    out: list[Rejection] = []
    for column in sorted(compared_columns()):
        values: dict[str, set[str]] = {}
        where: dict[str, tuple[list[str], str, list[int]]] = {}
        for p in parsed:
            cols = [c.column for c in p.spec.columns]
            if column not in cols or p.spec.columns[cols.index(column)].base_type != "text":
                continue
            i = cols.index(column)
            got = {_same_form(r[i]) for r in p.rows if r[i] is not None and str(r[i]).strip()}
            if not got:
                continue
            values[p.spec.file] = got
            header = p.spec.columns[i].header
            names = [d.name for d in p.delivered] or [p.spec.file]
            label = next((d.columns.get(column) for d in p.delivered if d.columns.get(column)), header)
            o = mapping.output(p.spec.file)
            lines = (
                sorted({r.line for part in o.parts if (r := o.rules_for(part).get(column)) is not None}) if o else []
            )
            where[p.spec.file] = (names, label, lines)
        if len(values) < 2:
            continue
        for file, got in values.items():
            others = sorted(f for f in values if f != file)
            pool = set().union(*(values[f] for f in others))
            shared = len(got & pool)
            if shared > SHARED_AT_LEAST * len(got):
                continue
            names, label, lines = where[file]
            header = next(c.header for p in parsed if p.spec.file == file for c in p.spec.columns if c.column == column)
            at = f"{mapping.path.name} {'・'.join(map(str, lines))}行目" if lines else "契約どおりの形のファイル"
            at_en = f"{mapping.path.name} line {', '.join(map(str, lines))}" if lines else "a contract-layout file"
            ja = (
                f"{file} の契約の列「{header}」（{at}）: 値{len(got)}種類のうち、ほかの出力（{'、'.join(others)}、"
                f"計{len(pool)}種類）と同じものは{shared}種類。{header}は同じものを同じ文字列で書きます"
                "（照合で完全一致で比べます。docs/contract/values.md）。値は表示しません"
            )
            en = (
                f"{file}, contract column {header} ({at_en}): {shared} of its {len(got)} distinct values occur in the "
                f"other outputs ({', '.join(others)}; {len(pool)} values); identity matching compares it exactly, so "
                "write it the same way in every file (docs/contract/values.md)"
            )
            out.append(
                make_rejection(
                    mapping.source, "、".join(names), "mapping_inconsistent", column=label, detail_ja=ja, detail_en=en
                )
            )
    return out


def _not_produced(report: Report, english: bool) -> list[str]:
    """The contract files the mapping does not make, said plainly: each is read only if it arrives in the contract
    layout — a contract file forgotten in the mapping is otherwise missing without a word."""
    if not report.not_produced:
        return []
    n = len(report.not_produced)
    out = [
        f"\n■ この対応表が作らない契約ファイル（{n}件） — 契約どおりの形式で別に届くのでなければ、outputs に書いてください"
        if not english
        else f"\n■ contract files this mapping does not produce ({n}): write their outputs unless they arrive in the "
        "contract layout"
    ]
    for f in report.not_produced:
        seen = f not in report.not_checked and any(c == f for c, _, _ in report.files)
        if english:
            out.append(f"  {f}: not produced" + ("; delivered in the contract layout, checked" if seen else ""))
        else:
            out.append(f"  {f}: 作りません" + ("（契約どおりの形式で届いたものを確認しました）" if seen else ""))
    return out


def render(report: Report, *, english: bool = False) -> str:
    """The report as text for IT (Japanese; English with ``english``). No value of the data in it."""
    name = str(report.mapping_path)
    lines = [f"対応表: {name}" if not english else f"mapping: {name}"]
    if report.problems:
        lines.append(
            f"\n■ 対応表の誤り（{len(report.problems)}件） — 情報システム担当が対応表を直してください"
            if not english
            else f"\n■ mistakes in the mapping ({len(report.problems)}): IT fixes the mapping"
        )
        for p in report.problems:
            lines.append(f"  {p.path}:{p.line}: {p.message_en if english else p.message_ja}")
        lines.append(
            "\n結果: 不合格（対応表を直してから、もう一度 check してください）" if not english else "\nresult: FAILED"
        )
        return "\n".join(lines)
    lines.append("対応表の書き方: 問題なし" if not english else "mapping file: no mistakes")
    if report.mapping is None or (not report.files and not report.not_checked):
        lines.append(
            "（ファイルを指定すると、実際に当てはめて確認します）"
            if not english
            else "(give files to apply the mapping to them)"
        )
        return "\n".join(lines)
    lines.append(f"対象月: {report.run_month}" if not english else f"run month: {report.run_month}")
    for contract_file, rows, delivered in report.files:
        lines.append(
            f"  {contract_file}: {rows}行（元のファイル: {'、'.join(delivered)}）"
            if not english
            else f"  {contract_file}: {rows} rows (from {', '.join(delivered)})"
        )
    lines += _not_produced(report, english)
    for f in report.ignored:
        lines.append(
            f"  {f}: どの入力（inputs）にも合わないため読みません"
            if not english
            else f"  {f}: matches no input, ignored"
        )
    for problems, ja, en in (
        (
            report.it,
            "対応表がファイルに合わない箇所（{}件） — 情報システム担当が対応表を直してください",
            "where the mapping does not fit the files ({}): IT fixes the mapping",
        ),
        (
            report.owner,
            "データの問題（{}件） — 月次処理ではデータ所有者にメールで知らせる内容です",
            "problems in the data ({}): the monthly run mails these to the data owner",
        ),
    ):
        if problems:
            lines.append("\n■ " + (en if english else ja).format(len(problems)))
            lines += [f"  {r.message_en if english else r.message_ja}" for r in problems]
    if report.passed:
        lines.append("\n結果: 合格（このまま取り込めます）" if not english else "\nresult: PASSED")
    elif report.mapping_ok:
        lines.append(
            "\n結果: 対応表は合格。データの問題はデータ所有者に確認してください"
            if not english
            else "\nresult: the mapping fits; the data has problems for its owner"
        )
    else:
        lines.append(
            "\n結果: 不合格（対応表を直してください）" if not english else "\nresult: FAILED (fix the mapping)"
        )
    return "\n".join(lines)
