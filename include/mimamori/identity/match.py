"""The generic matcher on CSV files: scored candidate pairs, links and clusters, as the warehouse scores them.

    python -m mimamori.identity.match --left a.csv --right b.csv --mapping m.yml --out pairs.csv
    python -m mimamori.identity.match --left people.csv --mapping m.yml --out pairs.csv   # dedupe

A town measures the matcher on its own labelled pairs with this (docs/identity.md); the benchmark
runs FEBRL 3 and 4 through it (mappings in ``mappings/``). The mapping YAML says which column of
each file is the record id and which columns hold which field; everything else is optional:

    mode: link                     # link (two files, each left record → at most one right record)
                                   # or dedupe (one file: every pair of its records; links clustered)
    encoding: utf-8-sig            # or cp932, utf-8
    left:
      id: 番号
      fields: {name: 氏名, kana: フリガナ, birth_date: 生年月日, sex: 性別, address: 住所,
               school: 学校, student_no: 児童生徒番号}
    right:                         # link mode only
      id: 宛名番号
      fields: {name: [姓, 名], kana: カナ氏名, birth_date: 生年月日}   # a list: columns joined by a space
    field_types: {street_number: code}   # fields beyond the town's own, by type (below)
    date_formats: ["%Y%m%d"]       # else the ingestion's parser (era dates included)
    blocking_rules: [[birth_date, sex], [name_norm], [kana_norm]]
    comparisons: [{comparison: name, kind: name, field: name_norm, given_field: given_norm}, ...]
    thresholds: {link: 13, review: 8, tie_margin: 5}
    max_block_size: 200
    address_prefixes: [神奈川県, 足柄上郡, 見守町]
    weights: estimate              # (default) m by EM, u by random sampling, on this run's data;
                                   # or `warehouse` (the town's seed) or a CSV path like the seed
    gaiji_map: gaiji.csv           # the town's 外字 table (default: seeds/identity/gaiji_map.csv)
    require_name_agreement: true   # (default) a link needs a name comparison that does not disagree

Field types and the columns they prepare (what blocking rules and comparisons refer to):

    name        <f> (normalised like the warehouse's names), <f>_key (its words sorted),
                <f>_given (second word); the field `name` itself prepares the warehouse's columns
                name_norm, given_norm, name_key, alias_norm
    kana        <f>, <f>_key, <f>_given; the field `kana`: kana_norm, given_kana_norm, kana_key
    date        <f> (a date), <f>_year; the field `birth_date` also birth_year
    sex         <f> (1 = 男/M, 2 = 女/F)
    address     <f> (address_norm for the field `address`)
    code        <f>: NFKC, spaces removed, upper case (numbers, postcodes, school names)
    text        <f>: NFKC, Latin script case- and accent-folded, single spaces

Defaults for the town's own fields (name, kana, birth_date, sex, address, school, student_no) are
the warehouse's (dbt_project.yml vars). A mapping mistake stops the run with one line naming the
file, the key and what is wrong.

How: the files go to temporary tables of one PostgreSQL session (the project's cluster as role
transformer, started if it is not running; ``--dsn`` for another server), and the SQL is rendered
from the dbt project's own macros (dbt_project/macros/identity/normalize.sql and match.sql) with
jinja2: the same normalisation, blocking, comparisons and decision rule as the dbt models. Output:
one row per candidate pair — ids, each comparison's level and weight, match_score (bits),
candidate_rank, outcome (linked / review / unmatched for the left record's best candidate in link
mode, for the pair itself in dedupe mode; candidate otherwise), match_reason, blocking_rules,
cluster_id — and one row (right_id empty, outcome unmatched, match_reason ``no candidate``) for
every record no blocking rule paired. The estimated weights go to ``<out>.weights.csv``; the
blocking report and the estimation summary are printed (counts only, never a value).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
DBT = ROOT / "dbt_project"
MACROS = DBT / "macros" / "identity"
SEEDS = DBT / "seeds" / "identity"
SEX_LABELS = {"男": "1", "女": "2", "M": "1", "F": "2", "m": "1", "f": "2", "MALE": "1", "FEMALE": "2"}
#: the warehouse's own fields: type, and the prepared columns the dbt vars refer to
TOWN_FIELDS = {
    "name": "name",
    "kana": "kana",
    "birth_date": "date",
    "sex": "sex",
    "address": "address",
    "school": "code",
    "student_no": "code",
}
TYPES = ("name", "kana", "date", "sex", "address", "code", "text")
KINDS = ("name", "date", "exact", "string", "fuzzy")
COMPARISON_KEYS = {
    "comparison",
    "kind",
    "field",
    "given_field",
    "key_field",
    "alias_field",
    "reading_field",
    "kana_key_field",
    "swap_field",
    "jaro_winkler",
    "threshold",
    "close",
}
MAPPING_KEYS = {
    "mode",
    "encoding",
    "left",
    "right",
    "field_types",
    "date_formats",
    "blocking_rules",
    "comparisons",
    "thresholds",
    "max_block_size",
    "address_prefixes",
    "weights",
    "random_pairs",
    "require_name_agreement",
    "gaiji_map",
}
SIDE_KEYS = {"id", "fields"}
#: pairs drawn at random to estimate u (the exact level's u is computed from value frequencies)
RANDOM_PAIRS = 20_000
EM_ITERATIONS = 40
FUNCTIONS_SCHEMA = "pg_temp"


class MappingError(ValueError):
    """A mistake in the mapping or the files: ``<file>: <key>: <what is wrong>``."""


@dataclass
class Config:
    mapping: Path
    mode: str
    encoding: str
    left: dict
    right: dict | None
    field_types: dict[str, str]
    date_formats: list[str]
    blocking_rules: list[list[str]]
    comparisons: list[dict]
    thresholds: dict
    max_block_size: int
    address_prefixes: list[str]
    weights: str
    random_pairs: int
    require_name_agreement: bool = True
    gaiji_map: Path = SEEDS / "gaiji_map.csv"
    prepared_columns: list[tuple[str, str]] = field(default_factory=list)  # (column, sql type)


# --------------------------------------------------------------------------- mapping


def project_defaults() -> dict:
    """The identity vars of dbt_project.yml (blocking rules, comparisons, thresholds …)."""
    data = yaml.safe_load((DBT / "dbt_project.yml").read_text(encoding="utf-8"))
    v = data.get("vars", {})
    return {
        "blocking_rules": v["identity_blocking_rules"],
        "comparisons": v["identity_comparisons"],
        "max_block_size": v.get("identity_max_block_size", 200),
        "address_prefixes": v.get("identity_address_prefixes", []),
        "thresholds": {
            "link": v["identity_link_threshold"],
            "review": v["identity_review_threshold"],
            "tie_margin": v["identity_tie_margin"],
        },
    }


def _prepared(field_name: str, typ: str) -> list[tuple[str, str]]:
    """Columns a field prepares (name, sql type)."""
    if field_name == "name" and typ == "name":
        return [
            ("name_norm", "text"),
            ("given_norm", "text"),
            ("name_key", "text"),
            ("alias_norm", "text"),
            ("reading_key", "text"),
        ]
    if field_name == "kana" and typ == "kana":
        return [("kana_norm", "text"), ("given_kana_norm", "text"), ("kana_key", "text")]
    if field_name == "address" and typ == "address":
        return [("address_norm", "text")]
    if typ in ("name", "kana"):
        return [(field_name, "text"), (f"{field_name}_key", "text"), (f"{field_name}_given", "text")]
    if typ == "date":
        year = "birth_year" if field_name == "birth_date" else f"{field_name}_year"
        return [(field_name, "date"), (year, "integer")]
    return [(field_name, "text")]


def _fail(where: str, key: str, what: str):
    raise MappingError(f"{where}: {key}: {what}")


def _read_mapping_yaml(path: Path) -> dict:
    where = str(path)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingError(f"{where}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}" if mark else "?"
        raise MappingError(f"{where}: {line}: not valid YAML") from None
    if not isinstance(spec, dict):
        _fail(where, "(top)", "must be a mapping of keys (left:, right:, …)")
    unknown = sorted(set(spec) - MAPPING_KEYS)
    if unknown:
        _fail(where, unknown[0], f"unknown key (known: {', '.join(sorted(MAPPING_KEYS))})")
    return spec


def _mapping_mode(where: str, spec: dict, two_files: bool) -> str:
    mode = spec.get("mode", "link" if two_files else "dedupe")
    if mode not in ("link", "dedupe"):
        _fail(where, "mode", f"must be link or dedupe, not {mode!r}")
    if mode == "link" and not two_files:
        _fail(where, "mode", "link needs two files (--left and --right); use mode: dedupe for one file")
    if mode == "dedupe" and two_files:
        _fail(where, "mode", "dedupe reads one file (--left only)")
    return mode


def _mapping_field_types(where: str, spec: dict) -> dict[str, str]:
    field_types = dict(TOWN_FIELDS)
    raw_types = spec.get("field_types") or {}
    if not isinstance(raw_types, dict):
        _fail(where, "field_types", "must map field names to a type")
    for name, typ in raw_types.items():
        if typ not in TYPES:
            _fail(where, f"field_types.{name}", f"unknown type {typ!r} (types: {', '.join(TYPES)})")
        if not str(name).isidentifier() or not str(name).islower():
            _fail(where, f"field_types.{name}", "a field name must be lower-case letters, digits and _")
        field_types[name] = typ
    return field_types


def _mapping_side(where: str, spec: dict, side: str, field_types: dict[str, str]) -> dict:
    s = spec.get(side)
    if s is None:
        _fail(where, side, "missing (the id column and the fields of that file)")
    if not isinstance(s, dict):
        _fail(where, side, "must be a mapping with id: and fields:")
    bad = sorted(set(s) - SIDE_KEYS)
    if bad:
        _fail(where, f"{side}.{bad[0]}", "unknown key (known: id, fields)")
    if not s.get("id"):
        _fail(where, f"{side}.id", "missing (the column holding the record id)")
    fields = s.get("fields")
    if not isinstance(fields, dict) or not fields:
        _fail(where, f"{side}.fields", "missing or empty (field: column)")
    for name, cols in fields.items():
        if name not in field_types:
            _fail(
                where,
                f"{side}.fields.{name}",
                f"unknown field (the town's are {', '.join(TOWN_FIELDS)}; declare others in field_types)",
            )
        if not (isinstance(cols, str) or (isinstance(cols, list) and cols and all(isinstance(c, str) for c in cols))):
            _fail(where, f"{side}.fields.{name}", "must be a column name or a list of column names")
    return s


def _mapping_blocking(where: str, spec: dict, defaults: dict, columns: set[str]) -> list:
    blocking = spec.get("blocking_rules", defaults["blocking_rules"])
    if not isinstance(blocking, list) or not blocking:
        _fail(where, "blocking_rules", "must be a non-empty list of field lists")
    if "blocking_rules" not in spec:  # the warehouse's rules: those whose fields this mapping has
        blocking = [r for r in blocking if set(r) <= columns]
        if not blocking:
            _fail(where, "blocking_rules", "none of the warehouse's rules fits these fields: give blocking_rules")
    for i, rule in enumerate(blocking):
        if not isinstance(rule, list) or not rule:
            _fail(where, f"blocking_rules[{i}]", "must be a non-empty list of fields")
        for f in rule:
            if f not in columns:
                _fail(
                    where,
                    f"blocking_rules[{i}]",
                    f"{f!r} is not a prepared column (these are: {', '.join(sorted(columns))})",
                )
    return blocking


def _check_comparison(where: str, key: str, c, names: set[str], columns: set[str]) -> None:
    if not isinstance(c, dict):
        _fail(where, key, "must be a mapping {comparison, kind, field}")
    bad = sorted(set(c) - COMPARISON_KEYS)
    if bad:
        _fail(where, f"{key}.{bad[0]}", f"unknown key (known: {', '.join(sorted(COMPARISON_KEYS))})")
    for req in ("comparison", "kind", "field"):
        if not c.get(req):
            _fail(where, f"{key}.{req}", "missing")
    if not str(c["comparison"]).isidentifier() or c["comparison"] == "prior":
        _fail(where, f"{key}.comparison", f"{c['comparison']!r} must be an identifier (and not 'prior')")
    if c["comparison"] in names:
        _fail(where, f"{key}.comparison", f"{c['comparison']!r} appears twice")
    names.add(c["comparison"])
    if c["kind"] not in KINDS:
        _fail(where, f"{key}.kind", f"unknown kind {c['kind']!r} (kinds: {', '.join(KINDS)})")
    for ref in ("field", "given_field", "key_field", "alias_field", "swap_field"):
        if c.get(ref) and c[ref] not in columns:
            _fail(
                where, f"{key}.{ref}", f"{c[ref]!r} is not a prepared column (these are: {', '.join(sorted(columns))})"
            )
    if c.get("jaro_winkler") is not None and not (0 < float(c["jaro_winkler"]) <= 1):
        _fail(where, f"{key}.jaro_winkler", "must be a number in (0, 1]")


def _mapping_comparisons(where: str, spec: dict, defaults: dict, columns: set[str]) -> list:
    comparisons = spec.get("comparisons", defaults["comparisons"])
    if "comparisons" not in spec:  # the warehouse's: those this mapping can compute, without absent options
        optional = ("given_field", "key_field", "alias_field", "reading_field", "kana_key_field", "swap_field")
        comparisons = [
            {k: v for k, v in c.items() if k not in optional or v in columns}
            for c in comparisons
            if c["field"] in columns
        ]
    if not isinstance(comparisons, list) or not comparisons:
        _fail(where, "comparisons", "must be a non-empty list")
    names: set[str] = set()
    for i, c in enumerate(comparisons):
        _check_comparison(where, f"comparisons[{i}]", c, names, columns)
    return comparisons


def _mapping_thresholds(where: str, spec: dict, defaults: dict) -> dict:
    thresholds = dict(defaults["thresholds"])
    t = spec.get("thresholds") or {}
    bad = sorted(set(t) - set(thresholds))
    if bad:
        _fail(where, f"thresholds.{bad[0]}", "unknown key (known: link, review, tie_margin)")
    thresholds.update(t)
    for k, v in thresholds.items():
        if not isinstance(v, int | float):
            _fail(where, f"thresholds.{k}", "must be a number")
    return thresholds


def _mapping_files(path: Path, spec: dict) -> tuple[str, Path, list]:
    """The weights (estimate, warehouse or a file), the gaiji map and the date formats a mapping names."""
    where = str(path)
    weights = str(spec.get("weights", "estimate"))
    if weights not in ("estimate", "warehouse"):
        wpath = (path.parent / weights).resolve()
        if not wpath.is_file():
            _fail(where, "weights", f"no such file {weights!r} (or: estimate, warehouse)")
        weights = str(wpath)
    gaiji = SEEDS / "gaiji_map.csv"
    if spec.get("gaiji_map"):
        gaiji = (path.parent / str(spec["gaiji_map"])).resolve()
        if not gaiji.is_file():
            _fail(where, "gaiji_map", f"no such file {spec['gaiji_map']!r} (a CSV like seeds/identity/gaiji_map.csv)")
    formats = spec.get("date_formats") or []
    if not isinstance(formats, list):
        _fail(where, "date_formats", "must be a list of strptime formats")
    return weights, gaiji, formats


def load_mapping(path: Path, two_files: bool) -> Config:
    """Read and validate a mapping; MappingError names the file, the key and what is wrong."""
    where = str(path)
    spec = _read_mapping_yaml(path)
    mode = _mapping_mode(where, spec, two_files)
    defaults = project_defaults()
    field_types = _mapping_field_types(where, spec)
    sides = {
        side: _mapping_side(where, spec, side, field_types)
        for side in (("left", "right") if mode == "link" else ("left",))
    }
    if mode == "dedupe" and "right" in spec:
        _fail(where, "right", "dedupe reads one file: leave right out")
    used = set(sides["left"]["fields"])
    if mode == "link":
        used &= set(sides["right"]["fields"])
    prepared = [("id", "text")]
    for name in sorted(used, key=lambda f: (f not in TOWN_FIELDS, f)):
        prepared += _prepared(name, field_types[name])
    columns = {c for c, _ in prepared}
    blocking = _mapping_blocking(where, spec, defaults, columns)
    comparisons = _mapping_comparisons(where, spec, defaults, columns)
    thresholds = _mapping_thresholds(where, spec, defaults)
    weights, gaiji, formats = _mapping_files(path, spec)
    return Config(
        mapping=path,
        mode=mode,
        encoding=spec.get("encoding", "utf-8-sig"),
        left=sides["left"],
        right=sides.get("right"),
        field_types=field_types,
        date_formats=[str(f) for f in formats],
        blocking_rules=blocking,
        comparisons=comparisons,
        thresholds=thresholds,
        max_block_size=int(spec.get("max_block_size", defaults["max_block_size"])),
        address_prefixes=list(spec.get("address_prefixes", defaults["address_prefixes"])),
        weights=weights,
        random_pairs=int(spec.get("random_pairs", RANDOM_PAIRS)),
        require_name_agreement=bool(spec.get("require_name_agreement", True)),
        gaiji_map=gaiji,
        prepared_columns=prepared,
    )


# --------------------------------------------------------------------------- files


def _read(path: Path, encoding: str) -> tuple[list[str], list[list[str]]]:
    try:
        with path.open(encoding=encoding, newline="") as fh:
            reader = csv.reader(fh, skipinitialspace=True)
            header = [h.strip() for h in next(reader, [])]
            rows = [[v.strip() for v in r] for r in reader if r]
    except UnicodeDecodeError:
        raise MappingError(f"{path}: cannot be read as {encoding} (set encoding: in the mapping)") from None
    except OSError as exc:
        raise MappingError(f"{path}: cannot be read ({exc.strerror})") from None
    if not header:
        raise MappingError(f"{path}: empty file")
    return header, rows


def _parse_date(value: str, formats: list[str]):
    if formats:
        for f in formats:
            try:
                return dt.datetime.strptime(value, f).date()
            except ValueError:
                continue
        return None
    from mimamori.ingest.parse import ParseError, parse_date

    try:
        return parse_date(value)
    except (ParseError, ValueError):
        return None


def _sex(value: str):
    v = unicodedata.normalize("NFKC", value).strip()
    return SEX_LABELS.get(v, SEX_LABELS.get(v.upper(), v))


def raw_rows(config: Config, side: dict, path: Path, fields: list[str]) -> tuple[list[tuple], dict[str, int]]:
    """(id, value per field …) per row, and per date field the count of values not read as dates."""
    header, rows = _read(path, config.encoding)
    index = {h: i for i, h in enumerate(header)}
    label = "left" if side is config.left else "right"

    def col(key: str, name: str) -> int:
        if name not in index:
            raise MappingError(
                f"{config.mapping}: {label}.{key}: column {name!r} is not in {path} (its columns: {', '.join(header)})"
            )
        return index[name]

    id_at = col("id", side["id"])
    spots = []
    for f in fields:
        cols = side["fields"][f]
        spots.append([col(f"fields.{f}", c) for c in ([cols] if isinstance(cols, str) else cols)])
    unreadable: dict[str, int] = {}
    out, seen = [], set()
    for n, r in enumerate(rows, start=2):
        if len(r) != len(header):
            raise MappingError(f"{path}: row {n}: {len(r)} fields, the header has {len(header)}")
        rid = r[id_at]
        if not rid or rid in seen:
            raise MappingError(f"{path}: row {n}: the id column {side['id']!r} is {'blank' if not rid else 'repeated'}")
        seen.add(rid)
        values = [rid]
        for f, at in zip(fields, spots, strict=True):
            text = " ".join(r[i] for i in at if r[i]).strip() or None
            typ = config.field_types[f]
            if text is not None and typ == "date":
                parsed = _parse_date(text, config.date_formats)
                if parsed is None:
                    unreadable[f] = unreadable.get(f, 0) + 1
                text = parsed
            elif text is not None and typ == "sex":
                text = _sex(text)
            values.append(text)
        out.append(tuple(values))
    return out, unreadable


# --------------------------------------------------------------------------- SQL


def load_macros():
    """normalize.sql and match.sql as one jinja2 module (they are plain Jinja on purpose)."""
    import jinja2

    # undefined keys are falsy, as in dbt (optional comparison keys such as alias_field)
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    text = "\n".join((MACROS / f"{name}.sql").read_text(encoding="utf-8") for name in ("normalize", "match"))
    return env.from_string(text).module


def prepared_sql(config: Config, m, raw: str, fields: list[str]) -> str:
    """select … from <raw>: every prepared column of the mapping's fields."""
    cols = ["id"]
    for f in fields:
        typ = config.field_types[f]
        if f == "name" and typ == "name":
            cols += [
                f"{m.identity_name_norm('name', 'kanji_variants', 'gaiji_map')} as name_norm",
                f"{m.identity_name_part('name', 2, 'kanji_variants', 'gaiji_map')} as given_norm",
                f"{m.identity_alias_norm('name', 'kanji_variants', 'gaiji_map')} as alias_norm",
                f"{m.identity_reading_key('name', 'gaiji_map')} as reading_key",
            ]
        elif f == "kana" and typ == "kana":
            cols += [
                f"{m.identity_kana_norm('kana')} as kana_norm",
                f"{m.identity_kana_part('kana', 2)} as given_kana_norm",
                f"{m.identity_kana_key('kana')} as kana_key",
            ]
        elif f == "address" and typ == "address":
            cols.append(f"{m.identity_address_norm('address', config.address_prefixes)} as address_norm")
        elif typ == "name":
            cols += [
                f"{m.identity_name_norm(f, 'kanji_variants', 'gaiji_map')} as {f}",
                f"{m.identity_name_part(f, 2, 'kanji_variants', 'gaiji_map')} as {f}_given",
            ]
        elif typ == "kana":
            cols += [
                f"{m.identity_kana_norm(f)} as {f}",
                f"{m.identity_kana_part(f, 2)} as {f}_given",
                f"{m.identity_kana_key(f)} as {f}_key",
            ]
        elif typ == "date":
            year = "birth_year" if f == "birth_date" else f"{f}_year"
            cols += [f, f"extract(year from {f})::integer as {year}"]
        elif typ == "sex":
            cols.append(f)
        elif typ == "address":
            cols.append(f"{m.identity_address_norm(f, config.address_prefixes)} as {f}")
        elif typ == "code":
            cols.append(f"nullif(upper(regexp_replace(normalize({f}, nfkc), '\\s+', '', 'g')), '') as {f}")
        else:  # text
            text = m.identity_name_text(f, "gaiji_map")
            cols.append(
                f"(select case when {m.identity_is_latin('t.v')} then {m.identity_latin_fold('t.v')} "
                f"else nullif(regexp_replace(btrim(t.v), '\\s+', ' ', 'g'), '') end from (select {text} as v) as t) as {f}"
            )
    inner = ", ".join(cols)
    keyed = []
    if "name" in fields and config.field_types["name"] == "name":
        keyed.append(f"{m.identity_token_key('p.name_norm')} as name_key")
    for f in fields:
        if f != "name" and config.field_types[f] == "name":
            keyed.append(f"{m.identity_token_key('p.' + f)} as {f}_key")
    extra = (", " + ", ".join(keyed)) if keyed else ""
    return f"select p.*{extra} from (select {inner} from {raw}) as p"


def comparison_levels(c: dict, m) -> list[str]:
    """The levels a comparison can reach (optional levels only when their key is set)."""
    optional = {
        "alias": c.get("alias_field"),
        "reading": c.get("reading_field") and c.get("kana_key_field"),
        "swapped": c.get("key_field") or c.get("swap_field"),
        "given": c.get("given_field"),
        "partial": c.get("key_field"),
    }
    levels = m.identity_kind_levels(c["kind"]).split(",")
    if c["kind"] == "name":
        return [lv for lv in levels if optional.get(lv, True)]
    if c["kind"] == "exact" and not c.get("close"):
        return [lv for lv in levels if lv != "close"]
    return levels


# --------------------------------------------------------------------------- estimation


def _initial_m(levels: list[str]) -> dict[str, float]:
    """A neutral start for EM: most mass on the strongest level, a little on 'different'."""
    n = len(levels)
    raw = {lv: (0.8 if i == 0 else 0.05 if i == n - 1 else 0.15 / max(n - 2, 1)) for i, lv in enumerate(levels)}
    total = sum(raw.values())
    return {lv: p / total for lv, p in raw.items()}


@dataclass
class Estimate:
    m: dict[str, dict[str, float]]
    u: dict[str, dict[str, float]]
    prior: float  # P(match) over all pairs
    iterations: int
    random_pairs: int
    candidate_pairs: int
    all_pairs: int


def estimate_weights(
    patterns: list[tuple[tuple[str, ...], int]],
    u: dict[str, dict[str, float]],
    comparisons: list[str],
    levels: dict[str, list[str]],
    all_pairs: int,
    expected_matches: float,
    iterations: int = EM_ITERATIONS,
) -> tuple[dict[str, dict[str, float]], float, int]:
    """m by EM over the candidate pairs' level patterns, with u fixed (random sample) and the prior
    λ = P(match) over all pairs (not only candidates: the blocking selected the candidates on
    the very agreements the model weighs, Splink's reasoning). Returns (m, λ, iterations)."""
    m = {c: _initial_m(levels[c]) for c in comparisons}
    lam = min(max(expected_matches / all_pairs, 1e-12), 0.5)
    floor = 1e-6
    done = 0
    for it in range(1, iterations + 1):
        done = it
        totals = {c: dict.fromkeys(levels[c], 0.0) for c in comparisons}
        matched = 0.0
        for pattern, count in patterns:
            log_bf = 0.0
            for c, level in zip(comparisons, pattern, strict=True):
                if level != "null":
                    log_bf += math.log(m[c][level]) - math.log(u[c][level])
            log_odds = math.log(lam / (1 - lam)) + log_bf
            w = 1.0 / (1.0 + math.exp(-log_odds)) if log_odds > -700 else 0.0
            matched += w * count
            for c, level in zip(comparisons, pattern, strict=True):
                if level != "null":
                    totals[c][level] += w * count
        new_m = {}
        for c in comparisons:
            s = sum(totals[c].values())
            new_m[c] = {lv: max(v / s, floor) for lv, v in totals[c].items()} if s > 0 else m[c]
        new_lam = min(max(matched / all_pairs, 1e-12), 0.5)
        shift = max(abs(new_m[c][lv] - m[c][lv]) for c in comparisons for lv in levels[c])
        m, lam = new_m, new_lam
        if shift < 1e-5:
            break
    return m, lam, done


# --------------------------------------------------------------------------- run


def _union_find(links: list[tuple[str, str]]) -> dict[str, str]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in links:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}


def _write_weights(path: Path, weights: list[tuple]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["comparison", "level", "m_probability", "u_probability", "description"])
        w.writerows(weights)


class _Phases(dict):
    """Seconds per phase of a match, in order."""

    def __init__(self, first: str, started: float):
        super().__init__({first: time.monotonic() - started})
        self.mark = time.monotonic()

    def done(self, name: str) -> None:
        self[name] = round(time.monotonic() - self.mark, 2)
        self.mark = time.monotonic()


def _match_dsn(log) -> str:
    """The project's warehouse as transformer (its PostgreSQL cluster started when it is not running)."""
    from mimamori.settings import get_settings
    from mimamori.stack import pg

    settings = get_settings()
    if not settings.warehouse_dsn_override and not pg.is_running(settings):
        log("starting the project's PostgreSQL cluster (make match needs it; `make down` stops it)")
        try:
            pg.ensure(settings)
        except FileNotFoundError:
            raise MappingError(
                "PostgreSQL: the server is not installed (apt-get install postgresql, or make deps as root),"
                " or give --dsn"
            ) from None
    return settings.dsn(role="transformer")


def _load_and_normalise(conn, config: Config, m, fields: list[str], left_rows, right_rows) -> str:
    """The files' rows, the kanji and gaiji maps into temporary tables; the prepared ``l`` (and ``r``).
    Returns the right side's relation (``l`` itself when deduplicating)."""
    raw_cols = ", ".join(["id text"] + [f"{f} {'date' if config.field_types[f] == 'date' else 'text'}" for f in fields])
    conn.execute("set search_path = pg_temp, public")
    conn.execute("set jit = off")  # the name macros' cost estimates make JIT compile for seconds
    conn.execute(m.identity_create_functions(FUNCTIONS_SCHEMA).replace("create schema if not exists pg_temp;", ""))
    conn.execute(f"create temp table left_raw ({raw_cols}) on commit drop")
    conn.execute(f"create temp table right_raw ({raw_cols}) on commit drop")
    conn.execute("create temp table kanji_variants (variant text primary key, canonical text) on commit drop")
    conn.execute("create temp table gaiji_map (code_point text, unicode text, mj_code text, note text) on commit drop")
    conn.execute(
        "create temp table weights (comparison text, level text, m_probability numeric, "
        "u_probability numeric, description text) on commit drop"
    )
    with conn.cursor() as cur:
        for table, rows in (("left_raw", left_rows), ("right_raw", right_rows)):
            with cur.copy(f"copy {table} from stdin") as copy:
                for row in rows:
                    copy.write_row(row)
        for table, path, ncols in (
            ("kanji_variants", SEEDS / "kanji_variants.csv", 2),
            ("gaiji_map", config.gaiji_map, 4),
        ):
            with cur.copy(f"copy {table} from stdin") as copy:
                for row in _read(path, "utf-8")[1]:
                    copy.write_row((row + [None] * ncols)[:ncols])
    conn.execute(f"create temp table l on commit drop as {prepared_sql(config, m, 'left_raw', fields)}")
    if config.mode == "link":
        conn.execute(f"create temp table r on commit drop as {prepared_sql(config, m, 'right_raw', fields)}")
    conn.execute("analyze l")
    if config.mode == "link":
        conn.execute("analyze r")
    return "r" if config.mode == "link" else "l"


def _no_candidate_sql(config: Config) -> str:
    """The left records no candidate pair names."""
    if config.mode == "link":
        return "select id from l where id not in (select left_id from pairs)"
    return "select id from l where id not in (select left_id from pairs union select right_id from pairs)"


def _blocking(conn, config: Config, m, right_rel: str, n_left: int, log, summary: dict) -> None:
    """Candidate pairs, the blocking report, and each pair's comparison levels."""
    conn.execute(
        "create temp table pairs on commit drop as "
        + m.identity_candidate_pairs(
            "l", right_rel, config.blocking_rules, config.max_block_size, config.mode == "dedupe"
        )
    )
    conn.execute("analyze pairs")
    n_pairs = conn.execute("select count(*) from pairs").fetchone()[0]
    report = []
    for rule in config.blocking_rules:
        name = "+".join(rule)
        n_rule, n_only = conn.execute(
            "select count(*) filter (where %s = any(string_to_array(blocking_rules, ','))),"
            " count(*) filter (where blocking_rules = %s) from pairs",
            (name, name),
        ).fetchone()
        skipped = conn.execute(
            f"select count(*) from (select 1 from {right_rel} where "
            + " and ".join(f"{f} is not null" for f in rule)
            + f" group by {', '.join(rule)} having count(*) > %s) as big",
            (config.max_block_size,),
        ).fetchone()[0]
        report.append((name, n_rule, n_only, skipped))
    no_candidate = conn.execute(f"select count(*) from ({_no_candidate_sql(config)}) as lonely").fetchone()[0]
    log(f"blocking: {n_pairs} candidate pair(s)")
    log(f"  {'rule':<40} {'pairs':>9} {'only this':>10} {'blocks over max':>16}")
    for name, n_rule, n_only, skipped in report:
        log(f"  {name:<40} {n_rule:>9} {n_only:>10} {skipped:>16}")
    share = no_candidate / max(n_left, 1)
    log(f"  records with no candidate: {no_candidate} of {n_left} ({share:.1%})")
    summary.update(candidate_pairs=n_pairs, no_candidate=no_candidate, blocking=report)
    conn.execute(
        "create temp table pair_levels on commit drop as "
        + m.identity_pair_levels("pairs", "l", right_rel, config.comparisons, FUNCTIONS_SCHEMA)
    )


def _weight_rows(conn, config: Config, m, right_rel: str, counts: tuple[int, int], seed: float, log, summary) -> list:
    """The m/u weights: estimated (EM and random pairs), the warehouse's, or a file's."""
    if config.weights != "estimate":
        path = SEEDS / "match_weights.csv" if config.weights == "warehouse" else Path(config.weights)
        return [tuple((r + [None] * 5)[:5]) for r in _read(path, "utf-8")[1]]
    levels = {c["comparison"]: comparison_levels(c, m) for c in config.comparisons}
    est = _estimate(conn, config, m, levels, right_rel, counts[0], counts[1], seed)
    rows = []
    for c in config.comparisons:
        name = c["comparison"]
        for lv in levels[name]:
            rows.append((name, lv, est.m[name][lv], est.u[name][lv], "estimated: m by EM, u by random pairs"))
    rows.append(("prior", "prior", est.prior, 1 - est.prior, "P(match) over all pairs (EM)"))
    log(
        f"weights: estimated (EM {est.iterations} iteration(s) over {est.candidate_pairs} candidate pairs,"
        f" u from {est.random_pairs} random pairs and exact value frequencies;"
        f" prior {math.log2(est.prior / (1 - est.prior)):.2f} bits)"
    )
    summary["estimate"] = {"iterations": est.iterations, "prior": est.prior}
    return rows


def _store_weights(conn, rows: list, log) -> None:
    with conn.cursor() as cur:
        with cur.copy("copy weights from stdin") as copy:
            for row in rows:
                copy.write_row(row)
    for name, lv, mp, up, _ in rows:
        if name != "prior":
            log(
                f"  {name:<16} {lv:<12} m={float(mp):.5f} u={float(up):.6f} {math.log2(float(mp) / float(up)):+7.2f} bits"
            )


def _score_and_decide(conn, config: Config, m, right_rel: str) -> tuple[list[str], list[list], list]:
    """Every candidate pair scored and decided (header, rows), and the records with no candidate."""
    t = config.thresholds
    scored = m.identity_score_pairs(
        "pairs", "l", right_rel, config.comparisons, "weights", FUNCTIONS_SCHEMA, "pair_levels"
    )
    conn.execute(f"create temp table scored on commit drop as {scored}")
    if config.mode == "link":
        resolved = m.identity_resolve_pairs(
            "scored", t["link"], t["review"], t["tie_margin"], config.require_name_agreement
        )
    else:
        resolved = m.identity_resolve_dedupe("scored", t["link"], t["review"], config.require_name_agreement)
    columns = ", ".join(f"scored.{c['comparison']}_level, scored.{c['comparison']}_weight" for c in config.comparisons)
    with conn.cursor() as cur:
        cur.execute(
            f"""
            with resolved as ({resolved})
            select
                scored.left_id,
                scored.right_id,
                {columns},
                scored.match_score,
                rank() over (partition by scored.left_id order by scored.match_score desc) as candidate_rank,
                coalesce(resolved.link_status, 'candidate') as outcome,
                scored.match_reason,
                scored.blocking_rules
            from scored
            left join resolved
                on scored.left_id = resolved.left_id
                and scored.right_id = resolved.right_id
            order by scored.left_id, scored.match_score desc, scored.right_id
            """
        )
        header = [d.name for d in cur.description]
        result = [list(r) for r in cur.fetchall()]
        cur.execute(_no_candidate_sql(config) + " order by id")
        lonely = [r[0] for r in cur.fetchall()]
    return header, result, lonely


def _with_clusters(config: Config, header: list[str], result: list[list], lonely: list) -> dict:
    """Append each linked pair's cluster id and a row per record with no candidate; the clusters."""
    at = {h: i for i, h in enumerate(header)}
    links = [(r[at["left_id"]], r[at["right_id"]]) for r in result if r[at["outcome"]] == "linked"]
    if config.mode == "link":
        links = [(f"L:{a}", f"R:{b}") for a, b in links]
    clusters = _union_find(links)
    cluster_of = {}
    for node, root in clusters.items():
        cluster_of[node] = root.split(":", 1)[-1] if config.mode == "link" else root
    header.append("cluster_id")
    for r in result:
        a = r[at["left_id"]]
        key = f"L:{a}" if config.mode == "link" else a
        r.append(cluster_of.get(key, a) if r[at["outcome"]] == "linked" else "")
    for rid in lonely:
        row = [""] * len(header)
        row[at["left_id"]], row[at["outcome"]], row[at["match_reason"]] = rid, "unmatched", "no candidate"
        row[-1] = ""
        result.append(row)
    return cluster_of


def run(
    left: Path,
    right: Path | None,
    mapping: Path,
    out: Path,
    dsn: str | None = None,
    log=print,
    seed: float = 0.42,
) -> dict:
    """Match as the mapping says; write pairs to `out`, weights to `<out>.weights.csv`. Returns a summary."""
    import psycopg

    t0 = time.monotonic()
    config = load_mapping(mapping, right is not None)
    fields = [f for f in config.left["fields"] if config.mode == "dedupe" or f in config.right["fields"]]
    left_rows, left_bad = raw_rows(config, config.left, left, fields)
    right_rows, right_bad = raw_rows(config, config.right, right, fields) if right is not None else ([], {})
    for side, bad in (("left", left_bad), ("right", right_bad)):
        for f, n in bad.items():
            log(f"{side}: {n} value(s) of {f} are not dates in the expected forms: they compare as missing")
    m = load_macros()
    if dsn is None:
        dsn = _match_dsn(log)
    summary: dict = {"mode": config.mode, "left_records": len(left_rows), "right_records": len(right_rows)}
    phases = _Phases("read files", t0)
    with psycopg.connect(dsn) as conn:
        right_rel = _load_and_normalise(conn, config, m, fields, left_rows, right_rows)
        phases.done("load and normalise")
        _blocking(conn, config, m, right_rel, len(left_rows), log, summary)
        phases.done("blocking and levels")
        rows = _weight_rows(conn, config, m, right_rel, (len(left_rows), len(right_rows)), seed, log, summary)
        phases.done("weights")
        _store_weights(conn, rows, log)
        header, result, lonely = _score_and_decide(conn, config, m, right_rel)
        phases.done("scoring and decisions")
    cluster_of = _with_clusters(config, header, result, lonely)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(result)
    weights_path = out.with_name(out.stem + ".weights.csv")
    _write_weights(weights_path, rows)
    phases.done("clusters and output")
    outcome_at = header.index("outcome")
    outcomes: dict[str, int] = {}
    for r in result:
        outcomes[r[outcome_at]] = outcomes.get(r[outcome_at], 0) + 1
    summary.update(
        pairs_written=len(result),
        outcomes=outcomes,
        clusters=len({v for v in cluster_of.values()}),
        seconds=round(time.monotonic() - t0, 2),
        weights_path=str(weights_path),
        phases=dict(phases),
    )
    log("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()))
    log(
        f"outcomes: {', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))}; clusters of links: {summary['clusters']}"
    )
    return summary


def _estimate(conn, config: Config, m, levels, right_rel: str, n_left: int, n_right: int, seed: float) -> Estimate:
    """u: the first (exact/agree) level from value frequencies, the others from random pairs; m by EM."""
    comparisons = [c["comparison"] for c in config.comparisons]
    level_sql = ", ".join(
        f"{m.identity_comparison_level(c, FUNCTIONS_SCHEMA)} as {c['comparison']}" for c in config.comparisons
    )
    dedupe = config.mode == "dedupe"
    all_pairs = n_left * (n_left - 1) // 2 if dedupe else n_left * n_right
    n_random = min(config.random_pairs, all_pairs)
    conn.execute("select setseed(%s)", (seed,))
    conn.execute(
        "create temp table l_numbered on commit drop as select row_number() over (order by id) as n, id from l"
    )
    conn.execute(
        f"create temp table r_numbered on commit drop as select row_number() over (order by id) as n, id from {right_rel}"
    )
    n_r = n_left if dedupe else n_right
    conn.execute(
        "create temp table random_pairs on commit drop as "
        "select ln.id as left_id, rn.id as right_id from ("
        f" select 1 + floor(random() * {n_left})::bigint as a, 1 + floor(random() * {n_r})::bigint as b"
        f" from generate_series(1, {n_random})) as draws"
        " join l_numbered ln on ln.n = draws.a join r_numbered rn on rn.n = draws.b where ln.id <> rn.id"
    )
    sampled = conn.execute(
        f"select {', '.join(comparisons)}, count(*) from (select {level_sql} from random_pairs p "
        f"join l on l.id = p.left_id join {right_rel} as r on r.id = p.right_id) as s group by {', '.join(comparisons)}"
    ).fetchall()
    drawn = sum(r[-1] for r in sampled)
    u: dict[str, dict[str, float]] = {}
    for i, c in enumerate(config.comparisons):
        name, f = c["comparison"], c["field"]
        first = levels[name][0]
        # the exact level: Σ over values of (share on the left × share on the right), among non-null pairs
        freq = conn.execute(
            f"with lv as (select {f} as v, count(*)::float8 as n from l where {f} is not null group by 1),"
            f" rv as (select {f} as v, count(*)::float8 as n from {right_rel} where {f} is not null group by 1)"
            " select coalesce(sum(lv.n * rv.n), 0), (select sum(n) from lv), (select sum(n) from rv)"
            " from lv join rv using (v)"
        ).fetchone()
        agree, nl_nonnull, nr_nonnull = (float(x or 0) for x in freq)
        if dedupe:
            agree = (agree - nl_nonnull) / 2  # pairs of distinct records, each once
            denominator = nl_nonnull * (nl_nonnull - 1) / 2
        else:
            denominator = nl_nonnull * nr_nonnull
        u_first = max(agree / denominator, 0.5 / max(denominator, 1)) if denominator else 0.5
        counts = dict.fromkeys(levels[name], 0)
        for r in sampled:
            if r[i] != "null":
                counts[r[i]] += r[-1]
        rest = {lv: n for lv, n in counts.items() if lv != first}
        total_rest = sum(rest.values())
        floor = 0.5 / max(drawn, 1)
        u[name] = {first: u_first}
        for lv, n in rest.items():
            share = n / total_rest if total_rest else 1 / len(rest)
            u[name][lv] = max(share * (1 - u_first), floor)
    level_columns = ", ".join(f"{c}_level" for c in comparisons)
    patterns = [
        (tuple(r[:-1]), r[-1])
        for r in conn.execute(f"select {level_columns}, count(*) from pair_levels group by {level_columns}").fetchall()
    ]
    n_candidates = sum(n for _, n in patterns)
    expected = min(n_left, n_right) if not dedupe else n_left / 2
    m_est, lam, iterations = estimate_weights(patterns, u, comparisons, levels, all_pairs, expected)
    return Estimate(m_est, u, lam, iterations, drawn, n_candidates, all_pairs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mimamori.identity.match", description=__doc__.split("\n")[0])
    parser.add_argument("--left", type=Path, required=True, help="CSV of the records to link (dedupe: the one file)")
    parser.add_argument("--right", type=Path, default=None, help="CSV of the candidates (e.g. the resident spine)")
    parser.add_argument("--mapping", type=Path, required=True, help="YAML: each side's id and field columns")
    parser.add_argument("--out", type=Path, required=True, help="CSV of scored pairs to write")
    parser.add_argument("--dsn", default=None, help="libpq URI (default: the project's cluster as role transformer)")
    args = parser.parse_args(argv)
    try:
        summary = run(args.left, args.right, args.mapping, args.out, args.dsn)
    except MappingError as exc:
        print(f"match: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {summary['pairs_written']} row(s) to {args.out} in {summary['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
