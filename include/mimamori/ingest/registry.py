"""The source registry: one YAML per holder department in ``include/sources/``.

The registry is the only place that knows about sources: which files a department delivers, each
header exactly as delivered (Japanese) and the English column it maps to, the column types, the
encoding, the key columns, the raw table, the data owners and what a failure does to the month
(``block`` or ``skip``). Everything downstream (parsing, validation, loading, the DAG) is generic
and reads it; a vendor changing an export is therefore a reviewed YAML diff, never code.

The YAMLs are generated from the literal input contract (``docs/contract/extracts.csv``)::

    python -m mimamori.ingest.registry generate --contract docs/contract/extracts.csv --out include/sources
    python -m mimamori.ingest.registry check    --contract docs/contract/extracts.csv

``generate`` keeps what the contract does not hold (department, label, data owners, on_failure) from the
YAML already there, so regenerating after a contract change only touches ``files``.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

#: include/sources, next to the package (works the same from the CLI, the DAGs and the tests).
DEFAULT_REGISTRY_DIR = Path(__file__).resolve().parents[2] / "sources"

ENCODINGS = ("cp932", "utf-8-sig", "xlsx")
ON_FAILURE = ("block", "skip")
#: Sources without which there is no month at all (domain.md §2: no spine without jumin).
NEVER_SKIP = frozenset({"jumin"})
#: Columns every raw table gets besides the contract's (lineage).
#: ``run_id`` is the attempt that loaded the row (mimamori.attempts); rows of several attempts stand side by side.
LINEAGE_COLUMNS = ("run_month", "source_file", "source_row_number", "file_sha256", "loaded_at", "run_id")
PLAIN_TYPES = ("id", "text", "date", "date_end", "int", "month")
_COLUMN_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_TABLE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: what ``generate`` writes for a new source's department and data owner until a person fills them
#: in; ``load_registry`` refuses an entry that still has it (no month runs with an unnamed owner)
PLACEHOLDER = "TODO"


class RegistryError(ValueError):
    """The registry (or the contract) is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class DataOwner:
    name: str
    email: str


@dataclass(frozen=True)
class ColumnSpec:
    header: str
    column: str
    type: str
    required: bool

    @property
    def base_type(self) -> str:
        """``id``, ``text``, ``date``, ``date_end``, ``int``, ``month``, ``flag`` or ``code``."""
        return self.type.split(":", 1)[0]

    @property
    def pg_type(self) -> str:
        return {
            "id": "text",
            "text": "text",
            "code": "text",
            "date": "date",
            "date_end": "date",
            "month": "date",
            "int": "integer",
            "flag": "boolean",
        }[self.base_type]

    @property
    def flag_labels(self) -> tuple[str, str]:
        """(true label, false label) of a ``flag:有/無`` column."""
        true, false = self.type.split(":", 1)[1].split("/")
        return true, false

    @property
    def codes(self) -> dict[str, str]:
        """code → label for ``code:1=男,2=女``; code → code for ``code:要保護,要支援``."""
        out: dict[str, str] = {}
        for item in self.type.split(":", 1)[1].split(","):
            code, _, label = item.partition("=")
            out[code] = label or code
        return out


@dataclass(frozen=True)
class FileSpec:
    file: str
    raw_table: str
    encoding: str
    keys: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    notes: str = ""
    #: the column naming the person (宛名番号) a record is about; ``atena_no`` when the file has one
    claims: str = ""
    #: the columns whose hash is the stable record key when the contract names no key (e.g. 氏名+生年月日)
    record_key: tuple[str, ...] = ()
    #: the file is the identity spine (住民記録): every other record is linked to its residents
    spine: bool = False

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def column_by_name(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.column == name:
                return col
        raise KeyError(name)


@dataclass(frozen=True)
class Source:
    source: str
    department: str
    data_owners: tuple[DataOwner, ...]
    on_failure: str
    files: tuple[FileSpec, ...]
    path: Path | None = field(default=None, compare=False)
    #: the short name screens show beside evidence (e.g. こども支援班); the department when unset
    label: str = ""

    @property
    def display_label(self) -> str:
        return self.label or self.department

    def file(self, name: str) -> FileSpec:
        for spec in self.files:
            if spec.file == name:
                return spec
        raise KeyError(name)


# --------------------------------------------------------------------------- validation


def validate_type(type_: str) -> None:
    if type_ in PLAIN_TYPES:
        return
    kind, sep, arg = type_.partition(":")
    if kind == "flag" and sep and len(arg.split("/")) == 2 and all(arg.split("/")):
        return
    if kind == "code" and sep and arg:
        items = arg.split(",")
        codes = [i.partition("=")[0] for i in items]
        if all(codes) and len(set(codes)) == len(codes):
            return
    raise RegistryError(
        f"unknown type {type_!r} (expected one of {', '.join(PLAIN_TYPES)}, flag:A/B, code:X,Y or code:1=A,2=B)"
    )


def _require(mapping: dict, key: str, where: str):
    if key not in mapping or mapping[key] in (None, ""):
        raise RegistryError(f"{where}: missing {key!r}")
    return mapping[key]


#: Per-file fields that the contract does not hold; generation keeps them (see render_yaml).
FILE_EXTRAS = ("claims", "record_key", "spine")


def _identity_roles(f: dict, where: str, names: set[str], keys: tuple[str, ...]) -> tuple[str, tuple[str, ...], bool]:
    """``claims``, ``record_key`` and ``spine`` of one file entry, checked against its columns."""
    claims = str(f.get("claims") or ("atena_no" if "atena_no" in names else ""))
    if claims and claims not in names:
        raise RegistryError(f"{where}: claims {claims!r} is not one of the file's columns")
    record_key = tuple(str(k) for k in (f.get("record_key") or []))
    for col in record_key:
        if col not in names:
            raise RegistryError(f"{where}: record_key column {col!r} is not one of the file's columns")
    if keys and record_key:
        raise RegistryError(f"{where}: record_key is for files without contract keys (the keys are the record key)")
    if not keys and not record_key:
        raise RegistryError(f"{where}: the contract names no key, so record_key must list the identifying columns")
    spine = f.get("spine", False)
    if not isinstance(spine, bool):
        raise RegistryError(f"{where}: spine must be true or false")
    return claims, record_key, spine


def source_from_dict(data: dict, where: str = "<registry>") -> Source:
    """Build and validate a Source from a parsed YAML mapping."""
    if not isinstance(data, dict):
        raise RegistryError(f"{where}: expected a mapping at the top level")
    name = _require(data, "source", where)
    on_failure = data.get("on_failure") or "block"
    if on_failure not in ON_FAILURE:
        raise RegistryError(f"{where}: on_failure must be one of {ON_FAILURE}, not {on_failure!r}")
    if name in NEVER_SKIP and on_failure != "block":
        raise RegistryError(f"{where}: source {name!r} must be on_failure: block (there is no month without it)")
    owners = []
    for i, owner in enumerate(data.get("data_owners") or []):
        w = f"{where}: data_owners[{i}]"
        email = _require(owner, "email", w)
        if not _EMAIL_RE.match(str(email)):
            raise RegistryError(f"{w}: invalid e-mail address")
        owners.append(DataOwner(name=str(_require(owner, "name", w)), email=str(email)))
    if not owners:
        raise RegistryError(f"{where}: at least one data owner is needed (quality alerts go to them)")
    files = []
    seen_files: set[str] = set()
    for i, f in enumerate(data.get("files") or []):
        w = f"{where}: files[{i}]"
        fname = str(_require(f, "file", w))
        if fname in seen_files:
            raise RegistryError(f"{w}: file {fname!r} listed twice")
        seen_files.add(fname)
        w = f"{where}: {fname}"
        table = str(_require(f, "raw_table", w))
        if not _TABLE_RE.match(table):
            raise RegistryError(f"{w}: raw_table {table!r} must be lower-case snake_case")
        encoding = str(_require(f, "encoding", w))
        if encoding not in ENCODINGS:
            raise RegistryError(f"{w}: encoding must be one of {ENCODINGS}, not {encoding!r}")
        if (encoding == "xlsx") != fname.lower().endswith(".xlsx"):
            raise RegistryError(f"{w}: encoding xlsx goes with a .xlsx file name and only then")
        cols = []
        for j, c in enumerate(_require(f, "columns", w)):
            cw = f"{w}: columns[{j}]"
            column = str(_require(c, "column", cw))
            if not _COLUMN_RE.match(column) or column in LINEAGE_COLUMNS:
                raise RegistryError(f"{cw}: column {column!r} must be snake_case and not a lineage column")
            type_ = str(_require(c, "type", cw))
            try:
                validate_type(type_)
            except RegistryError as exc:
                raise RegistryError(f"{cw}: {exc}") from None
            required = c.get("required", False)
            if not isinstance(required, bool):
                raise RegistryError(f"{cw}: required must be true or false")
            cols.append(ColumnSpec(header=str(_require(c, "header", cw)), column=column, type=type_, required=required))
        if len({c.header for c in cols}) != len(cols) or len({c.column for c in cols}) != len(cols):
            raise RegistryError(f"{w}: headers and columns must be unique within a file")
        if not any(c.column == "extracted_on" and c.base_type == "date" for c in cols):
            raise RegistryError(f"{w}: every file needs an extracted_on (抽出日) column of type date")
        keys = tuple(str(k) for k in (f.get("keys") or []))
        names = {c.column for c in cols}
        for key in keys:
            if key not in names:
                raise RegistryError(f"{w}: key {key!r} is not one of the file's columns")
        claims, record_key, spine = _identity_roles(f, w, names, keys)
        files.append(
            FileSpec(
                file=fname,
                raw_table=table,
                encoding=encoding,
                keys=keys,
                columns=tuple(cols),
                notes=str(f.get("notes") or ""),
                claims=claims,
                record_key=record_key,
                spine=spine,
            )
        )
    if not files:
        raise RegistryError(f"{where}: a source needs at least one file")
    return Source(
        source=str(name),
        department=str(_require(data, "department", where)),
        label=str(data.get("label") or ""),
        data_owners=tuple(owners),
        on_failure=on_failure,
        files=tuple(files),
    )


def _refuse_placeholders(src: Source, where: str) -> None:
    unfilled = ["department"] if src.department.startswith(PLACEHOLDER) else []
    unfilled += ["data_owners"] if any(o.name.startswith(PLACEHOLDER) for o in src.data_owners) else []
    if unfilled:
        raise RegistryError(
            f"{where}: {' and '.join(unfilled)} still the generator's placeholder ({PLACEHOLDER}): name the"
            " department and its data owners (docs/manual-data-engineer.md §3.3)"
        )


def load_registry(path: Path | str | None = None) -> dict[str, Source]:
    """Every ``<source>.yaml`` under ``path`` (default ``include/sources``), validated.

    Raises :class:`RegistryError` naming the YAML file and the field on any problem; raw tables
    must be unique across sources.
    """
    folder = Path(path) if path is not None else DEFAULT_REGISTRY_DIR
    registry: dict[str, Source] = {}
    tables: dict[str, str] = {}
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise RegistryError(f"no source YAML found in {folder}")
    for yml in files:
        try:
            data = yaml.safe_load(yml.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise RegistryError(f"{yml.name}: not valid YAML ({exc.__class__.__name__})") from None
        src = source_from_dict(data, yml.name)
        _refuse_placeholders(src, yml.name)
        if src.source != yml.stem:
            raise RegistryError(f"{yml.name}: source {src.source!r} must match the file name")
        for spec in src.files:
            if spec.raw_table in tables:
                raise RegistryError(
                    f"{yml.name}: raw_table {spec.raw_table!r} already used by {tables[spec.raw_table]}"
                )
            tables[spec.raw_table] = f"{src.source}/{spec.file}"
        registry[src.source] = Source(**{**src.__dict__, "path": yml})
    return registry


# --------------------------------------------------------------------------- contract


def read_contract(contract: Path | str) -> dict[str, list[dict]]:
    """The contract as {source: [file dicts in the registry's shape]} (file order as listed)."""
    rows = list(csv.DictReader(Path(contract).read_text(encoding="utf-8").splitlines()))
    out: dict[str, dict[str, dict]] = {}
    for row in rows:
        files = out.setdefault(row["source"], {})
        f = files.get(row["file"])
        if f is None:
            f = files[row["file"]] = {
                "file": row["file"],
                "raw_table": row["raw_table"],
                "encoding": row["encoding"],
                "keys": [],
                "notes": "",
                "columns": [],
                "_positions": [],
            }
        if row["raw_table"] != f["raw_table"] or row["encoding"] != f["encoding"]:
            raise RegistryError(f"contract: {row['file']} has inconsistent raw_table/encoding")
        f["_positions"].append(int(row["position"]))
        f["columns"].append(
            {
                "header": row["header"],
                "column": row["column"],
                "type": row["type"],
                "required": row["required"].strip().lower() == "yes",
            }
        )
        if row["key"].strip():
            f["keys"].append(row["column"])
        if row["notes"].strip() and not f["notes"]:
            f["notes"] = row["notes"].strip()
    result: dict[str, list[dict]] = {}
    for source, files in out.items():
        result[source] = []
        for f in files.values():
            order = sorted(range(len(f["columns"])), key=lambda i: f["_positions"][i])
            if sorted(f["_positions"]) != list(range(1, len(order) + 1)):
                raise RegistryError(f"contract: {f['file']} positions are not 1..n")
            f["columns"] = [f["columns"][i] for i in order]
            key_order = [c["column"] for c in f["columns"] if c["column"] in f["keys"]]
            f["keys"] = key_order
            del f["_positions"]
            result[source].append(f)
    return result


def diff_against_contract(registry: dict[str, Source], contract: Path | str) -> list[str]:
    """Every disagreement between the registry and the contract (empty list = they agree)."""
    expected = read_contract(contract)
    problems: list[str] = []
    for name in sorted(set(expected) | set(registry)):
        if name not in registry:
            problems.append(f"{name}: in the contract but no YAML")
            continue
        if name not in expected:
            problems.append(f"{name}: YAML but not in the contract")
            continue
        have = {f.file: f for f in registry[name].files}
        want = {f["file"]: f for f in expected[name]}
        if list(have) != list(want):
            problems.append(f"{name}: files {list(have)} != contract {list(want)}")
        for fname in want:
            if fname not in have:
                continue
            h, w = have[fname], want[fname]
            for attr in ("raw_table", "encoding"):
                if getattr(h, attr) != w[attr]:
                    problems.append(f"{name}/{fname}: {attr} {getattr(h, attr)!r} != contract {w[attr]!r}")
            if list(h.keys) != w["keys"]:
                problems.append(f"{name}/{fname}: keys {list(h.keys)} != contract {w['keys']}")
            hc = [(c.header, c.column, c.type, c.required) for c in h.columns]
            wc = [(c["header"], c["column"], c["type"], c["required"]) for c in w["columns"]]
            if hc != wc:
                for i in range(max(len(hc), len(wc))):
                    a = hc[i] if i < len(hc) else None
                    b = wc[i] if i < len(wc) else None
                    if a != b:
                        problems.append(f"{name}/{fname}: position {i + 1}: registry {a} != contract {b}")
    return problems


# --------------------------------------------------------------------------- generation


def _q(value: str) -> str:
    """A YAML scalar: plain when that round-trips safely, else a JSON (= YAML) double-quoted string."""
    if value and re.fullmatch(r"[^\s:#,\[\]{}&*!|>'\"%@`?-][^:#,\[\]{}]*", value) and value == value.strip():
        try:
            if yaml.safe_load(value) == value:
                return value
        except yaml.YAMLError:
            pass
    return json.dumps(value, ensure_ascii=False)


def render_yaml(source: str, meta: dict, files: list[dict]) -> str:
    lines = [
        f"# Source registry entry for {source}. Generated from docs/contract/extracts.csv by",
        "#   python -m mimamori.ingest.registry generate --contract docs/contract/extracts.csv --out include/sources",
        "# department, label, data_owners and on_failure (per file: spine, claims, record_key) are kept on",
        "# regeneration; edit them here. The dbt scaffolding is generated from here: bin/mimamori scaffold.",
        "# A header change must agree with the contract (tests/ingest/test_registry.py checks it).",
        f"source: {_q(source)}",
        f"department: {_q(meta['department'])}",
    ]
    if meta.get("label"):
        lines.append(f"label: {_q(meta['label'])}")
    lines += [
        "data_owners:",
    ]
    for owner in meta["data_owners"]:
        lines.append(f"  - name: {_q(owner['name'])}")
        lines.append(f"    email: {_q(owner['email'])}")
    lines.append(f"on_failure: {meta.get('on_failure') or 'block'}")
    lines.append("files:")
    for f in files:
        lines.append(f"  - file: {_q(f['file'])}")
        lines.append(f"    raw_table: {_q(f['raw_table'])}")
        lines.append(f"    encoding: {_q(f['encoding'])}")
        lines.append(f"    keys: [{', '.join(_q(k) for k in f['keys'])}]")
        if f.get("notes"):
            lines.append(f"    notes: {_q(f['notes'])}")
        if f.get("spine"):
            lines.append("    spine: true")
        if f.get("claims"):
            lines.append(f"    claims: {_q(f['claims'])}")
        if f.get("record_key"):
            lines.append(f"    record_key: [{', '.join(_q(k) for k in f['record_key'])}]")
        lines.append("    columns:")
        for c in f["columns"]:
            req = "true" if c["required"] else "false"
            lines.append(
                f"      - {{header: {_q(c['header'])}, column: {_q(c['column'])}, "
                f"type: {_q(c['type'])}, required: {req}}}"
            )
    return "\n".join(lines) + "\n"


def generate(contract: Path | str, out: Path | str) -> list[Path]:
    """Write ``<out>/<source>.yaml`` for every source in the contract; returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for source, files in read_contract(contract).items():
        target = out / f"{source}.yaml"
        meta: dict = {}
        if target.exists():
            existing = yaml.safe_load(target.read_text(encoding="utf-8")) or {}
            meta = {k: existing.get(k) for k in ("department", "label", "data_owners", "on_failure") if existing.get(k)}
            kept = {f.get("file"): f for f in existing.get("files") or []}
            files = [
                {**f, **{k: kept[f["file"]][k] for k in FILE_EXTRAS if kept.get(f["file"], {}).get(k)}} for f in files
            ]
        # a new source: placeholders a person replaces (the YAML is the truth from then on)
        defaults = {
            "department": f"{PLACEHOLDER}: 部署名",
            "data_owners": [
                {
                    "name": f"{PLACEHOLDER}: データ所有者",
                    "email": f"{source.replace('_', '-')}-owner@kaisei-town.example",
                }
            ],
        }
        meta = {"on_failure": "block", **defaults, **meta}
        text = render_yaml(source, meta, files)
        source_from_dict(yaml.safe_load(text), target.name)  # never write an invalid entry
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mimamori.ingest.registry",
        description="Generate or check the source registry (include/sources/*.yaml) against the input contract.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="(re)write one YAML per source from the contract")
    gen.add_argument("--contract", required=True, type=Path, help="path of extracts.csv")
    gen.add_argument("--out", type=Path, default=DEFAULT_REGISTRY_DIR, help="registry folder (default include/sources)")
    chk = sub.add_parser(
        "check", help="validate the YAMLs and compare them with the contract; exit 1 on any difference"
    )
    chk.add_argument("--contract", required=True, type=Path)
    chk.add_argument("--registry", type=Path, default=DEFAULT_REGISTRY_DIR)
    args = parser.parse_args(argv)
    try:
        if args.command == "generate":
            for path in generate(args.contract, args.out):
                print(path)
            return 0
        problems = diff_against_contract(load_registry(args.registry), args.contract)
    except RegistryError as exc:
        print(f"registry error: {exc}", file=sys.stderr)
        return 1
    for problem in problems:
        print(problem)
    print("registry agrees with the contract" if not problems else f"{len(problems)} difference(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
