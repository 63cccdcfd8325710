"""The generic matcher on any two CSV files: scored candidate pairs, as the warehouse scores them.

    python -m mimamori.identity.match --left a.csv --right b.csv --mapping m.yml --out pairs.csv

A town can measure the matcher on its own labelled pairs with this. The mapping YAML says which
column of each file is the record id and which columns hold the matcher's fields (any subset):

    left:
      id: 番号
      fields: {name: 氏名, kana: フリガナ, birth_date: 生年月日, sex: 性別, address: 住所,
               school: 学校, student_no: 児童生徒番号}
    right:
      id: 宛名番号
      fields: {name: 氏名, kana: カナ氏名, birth_date: 生年月日, sex: 性別, address: 住所}
    # optional — defaults are the warehouse's (dbt_project.yml vars, seeds/identity/*.csv):
    encoding: utf-8-sig            # or cp932
    blocking_rules: [[birth_date], [name_norm], [kana_norm]]
    comparisons: [{comparison: name, kind: name, field: name_norm, given_field: given_norm}, ...]
    thresholds: {link: 13, review: 8, tie_margin: 5}
    max_block_size: 200
    address_prefixes: [神奈川県, 足柄上郡, 見守町]
    weights: path/to/match_weights.csv

How: both files are loaded into temporary tables of a PostgreSQL session (the warehouse as role
transformer by default, --dsn otherwise), dates parsed as the ingestion parses them (era dates
included), and the SQL is rendered from the dbt project's own macros
(dbt_project/macros/identity/normalize.sql and match.sql) with jinja2 — the same normalisation,
blocking, comparisons and Fellegi–Sunter weights as the dbt models. The output has one row per
candidate pair: ids, the level of each comparison, match_score (bits), the rank of the pair among
the left record's candidates, and for the best candidate the outcome (linked / review / unmatched).
"""

from __future__ import annotations

import argparse
import csv
import unicodedata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
DBT = ROOT / "dbt_project"
MACROS = DBT / "macros" / "identity"
FIELDS = ("name", "kana", "birth_date", "sex", "address", "school", "student_no")
SEX_LABELS = {"男": "1", "女": "2", "M": "1", "F": "2", "m": "1", "f": "2"}


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
        "weights": str(DBT / "seeds" / "identity" / "match_weights.csv"),
        "kanji_variants": str(DBT / "seeds" / "identity" / "kanji_variants.csv"),
        "encoding": "utf-8-sig",
    }


def load_macros():
    """The dbt macros as jinja2 template modules (they are plain Jinja on purpose)."""
    import jinja2

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.do"])
    modules = {}
    for name in ("normalize", "match"):
        modules[name] = env.from_string((MACROS / f"{name}.sql").read_text(encoding="utf-8")).module
    return modules


def _read(path: Path, encoding: str) -> list[dict]:
    with path.open(encoding=encoding, newline="") as fh:
        return list(csv.DictReader(fh))


def _date(value: str | None):
    from mimamori.ingest.parse import ParseError, parse_date

    if value is None or not str(value).strip():
        return None
    try:
        return parse_date(str(value))
    except (ParseError, ValueError):
        return None


def _sex(value: str | None):
    if value is None or not str(value).strip():
        return None
    v = unicodedata.normalize("NFKC", str(value)).strip()
    return SEX_LABELS.get(v, v)


def _rows(rows: list[dict], side: dict) -> list[tuple]:
    id_col = side["id"]
    cols = side.get("fields", {})
    missing = [c for c in [id_col, *cols.values()] if rows and c not in rows[0]]
    if missing:
        raise SystemExit(f"mapping names columns not in the file: {', '.join(missing)}")
    out = []
    for r in rows:
        values = []
        for f in FIELDS:
            raw = r.get(cols[f]) if f in cols else None
            if f == "birth_date":
                values.append(_date(raw))
            elif f == "sex":
                values.append(_sex(raw))
            else:
                values.append(raw if raw not in ("", None) else None)
        out.append((r[id_col], *values))
    return out


def build_sql(config: dict, macros) -> dict[str, str]:
    n = macros["normalize"]
    m = macros["match"]

    def prepared(raw: str) -> str:
        return f"""
            select
                id,
                {n.identity_name_norm("name", "kanji_variants")} as name_norm,
                {n.identity_name_part("name", 2, "kanji_variants")} as given_norm,
                {n.identity_kana_norm("kana")} as kana_norm,
                {n.identity_kana_part("kana", 2)} as given_kana_norm,
                sex,
                {n.identity_address_norm("address", config["address_prefixes"])} as address_norm,
                nullif(btrim(normalize(school, nfkc)), '') as school,
                nullif(btrim(normalize(student_no, nfkc)), '') as student_no,
                extract(year from birth_date)::integer as birth_year,
                birth_date
            from {raw}
        """

    t = config["thresholds"]
    pairs = m.identity_candidate_pairs("l", "r", config["blocking_rules"], config["max_block_size"])
    scored = m.identity_score_pairs("pairs", "l", "r", config["comparisons"], "weights")
    resolved = m.identity_resolve_pairs("scored", t["link"], t["review"], t["tie_margin"])
    levels = ", ".join(f"scored.{c['comparison']}_level" for c in config["comparisons"])
    result = f"""
        with
        pairs as ({pairs}),
        scored as ({scored}),
        resolved as ({resolved})
        select
            scored.left_id,
            scored.right_id,
            {levels},
            scored.match_score,
            rank() over (partition by scored.left_id order by scored.match_score desc) as candidate_rank,
            case when resolved.left_id is not null then resolved.link_status else 'candidate' end as outcome,
            scored.match_reason,
            scored.blocking_rules
        from scored
        left join resolved
            on scored.left_id = resolved.left_id
            and scored.right_id = resolved.right_id
        order by scored.left_id, scored.match_score desc, scored.right_id
    """
    return {"left": prepared("left_raw"), "right": prepared("right_raw"), "pairs": result}


def run(left: Path, right: Path, mapping: Path, out: Path, dsn: str | None = None) -> int:
    """Match `left` against `right` as `mapping` says; write the scored pairs to `out`. Returns the pair count."""
    import psycopg

    spec = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    config = project_defaults()
    for key in ("blocking_rules", "comparisons", "max_block_size", "address_prefixes", "weights", "encoding"):
        if key in spec:
            config[key] = spec[key]
    config["thresholds"].update(spec.get("thresholds", {}))
    if "weights" in spec:
        config["weights"] = str((mapping.parent / spec["weights"]).resolve())
    left_rows = _rows(_read(left, config["encoding"]), spec["left"])
    right_rows = _rows(_read(right, config["encoding"]), spec["right"])
    sql = build_sql(config, load_macros())

    if dsn is None:
        from mimamori.settings import get_settings

        dsn = get_settings().dsn(role="transformer")
    columns = "id text, name text, kana text, birth_date date, sex text, address text, school text, student_no text"
    with psycopg.connect(dsn) as conn:
        conn.execute("set search_path = pg_temp, public")
        conn.execute(f"create temp table left_raw ({columns}) on commit drop")
        conn.execute(f"create temp table right_raw ({columns}) on commit drop")
        conn.execute("create temp table kanji_variants (variant text primary key, canonical text) on commit drop")
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
                ("kanji_variants", config["kanji_variants"], 2),
                ("weights", config["weights"], 5),
            ):
                with cur.copy(f"copy {table} from stdin") as copy:
                    for row in _read(Path(path), "utf-8"):
                        copy.write_row(list(row.values())[:ncols] + [None] * (ncols - len(row)))
        conn.execute(f"create temp table l on commit drop as {sql['left']}")
        conn.execute(f"create temp table r on commit drop as {sql['right']}")
        conn.execute("analyze l; analyze r")
        with conn.cursor() as cur:
            cur.execute(sql["pairs"])
            header = [d.name for d in cur.description]
            result = cur.fetchall()
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(result)
    return len(result)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mimamori.identity.match", description=__doc__.split("\n")[0])
    parser.add_argument("--left", type=Path, required=True, help="CSV of the records to link")
    parser.add_argument("--right", type=Path, required=True, help="CSV of the candidates (e.g. the resident spine)")
    parser.add_argument("--mapping", type=Path, required=True, help="YAML: each side's id and field columns")
    parser.add_argument("--out", type=Path, required=True, help="CSV of scored pairs to write")
    parser.add_argument("--dsn", default=None, help="libpq URI (default: the warehouse as role transformer)")
    args = parser.parse_args(argv)
    n = run(args.left, args.right, args.mapping, args.out, args.dsn)
    print(f"wrote {n} scored pair(s) to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
