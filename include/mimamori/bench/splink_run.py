"""Splink (DuckDB backend) on the records the dbt matcher sees — run by the Splink venv's python.

    .local/venv/splink/bin/python include/mimamori/bench/splink_run.py WORKDIR

WORKDIR holds ``left.csv`` (the matcher's queue: id, fields, block keys b0..bN), ``right.csv``
(the spine with the pupils' 学齢簿 context) and ``config.json`` (comparisons as in dbt's
identity_comparisons, the block-key columns). Blocking: one rule per block-key column; each key
column already carries dbt's max-block-size guard (null where the resident-side block is too
big), so the candidate pairs are dbt's. Comparison levels are the dbt matcher's (macros/identity/
match.sql) in DuckDB SQL; the address level uses a pg_trgm-compatible trigram similarity. m by
EM, u by random sampling, λ from deterministic rules. Writes ``splink_pairs.csv`` (left_id,
right_id, match_weight) and ``splink_timings.json``. Standard library + splink + duckdb only.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

#: pg_trgm's similarity() in DuckDB SQL: words of letters/digits, lower-cased, padded '  w ',
#: distinct trigrams, |A ∩ B| / |A ∪ B| (checked equal to PostgreSQL's on Japanese addresses).
TRGM_MACROS = [
    r"""CREATE MACRO trgm(s) AS list_distinct(flatten(list_transform(
          list_filter(regexp_split_to_array(lower(s), '[^\pL\pN]+'), lambda w: length(w) > 0),
          lambda w: list_transform(range(1, length('  ' || w || ' ') - 1),
                                   lambda i: substring('  ' || w || ' ', i, 3)))))""",
    """CREATE MACRO trgm_similarity(a, b) AS
          len(list_intersect(trgm(a), trgm(b)))::DOUBLE / nullif(len(list_distinct(list_concat(trgm(a), trgm(b)))), 0)""",
]


def comparison(c: dict) -> dict:
    """A Splink comparison dict with the dbt matcher's levels for comparison `c`."""
    f = c["field"]
    l, r = f"{f}_l", f"{f}_r"  # noqa: E741
    levels = [{"sql_condition": f"{l} IS NULL OR {r} IS NULL", "label_for_charts": "null", "is_null_level": True}]
    if c["kind"] == "name":
        levels.append({"sql_condition": f"{l} = {r}", "label_for_charts": "exact"})
        if c.get("given_field"):
            g = f"{c['given_field']}_r"
            levels.append(
                {
                    "sql_condition": f"{g} IS NOT NULL AND length({l}) > length({g}) AND right({l}, length({g})) = {g}",
                    "label_for_charts": "given",
                }
            )
        levels.append({"sql_condition": f"levenshtein({l}, {r}) <= 1", "label_for_charts": "close"})
        levels.append({"sql_condition": "ELSE", "label_for_charts": "different"})
    elif c["kind"] == "date":
        levels.append({"sql_condition": f"{l} = {r}", "label_for_charts": "exact"})
        levels.append(
            {
                "sql_condition": f"abs(date_diff('day', {l}, {r})) = 1 OR (year({l}) = year({r}) "
                f"AND month({l}) = day({r}) AND day({l}) = month({r}))",
                "label_for_charts": "near",
            }
        )
        levels.append({"sql_condition": "ELSE", "label_for_charts": "different"})
    elif c["kind"] == "fuzzy":
        levels.append({"sql_condition": f"{l} = {r}", "label_for_charts": "exact"})
        levels.append(
            {
                "sql_condition": f"trgm_similarity({l}, {r}) >= {float(c.get('threshold', 0.5))}",
                "label_for_charts": "similar",
            }
        )
        levels.append({"sql_condition": "ELSE", "label_for_charts": "different"})
    else:
        levels.append({"sql_condition": f"{l} = {r}", "label_for_charts": "agree"})
        levels.append({"sql_condition": "ELSE", "label_for_charts": "disagree"})
    return {"output_column_name": c["comparison"], "comparison_levels": levels}


CLAMPED: list[str] = []


def clamp_tiny_probabilities() -> None:
    """Splink 5.0.0 raises when EM drives an m (or u) below 1e-300 (its M_U_CLAMP_MIN) instead of
    clamping: on these records EM sends a never-seen-among-matches level there within ~8 iterations.
    Clamp to that minimum (the weight stays hugely negative), and say which levels were clamped."""
    from splink.internals import comparison_level as mod

    for name in ("m_probability", "u_probability"):
        prop = getattr(mod.ComparisonLevel, name)

        def setter(self, value, _prop=prop, _name=name):
            if isinstance(value, float) and value < mod.M_U_CLAMP_MIN:
                CLAMPED.append(f"{_name} of {self.label_for_charts!r} ({value:.1e})")
                value = mod.M_U_CLAMP_MIN
            _prop.fset(self, value)

        setattr(mod.ComparisonLevel, name, property(prop.fget, setter))


def main(work: Path) -> int:
    t_start = time.monotonic()
    import duckdb
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    clamp_tiny_probabilities()
    config = json.loads((work / "config.json").read_text())
    timings: dict[str, float] = {"import": time.monotonic() - t_start}
    con = duckdb.connect()
    con.execute(f"SET threads = {int(config.get('threads', 2))}")
    for macro in TRGM_MACROS:
        con.execute(macro)
    t = time.monotonic()
    for name in ("left", "right"):
        con.execute(
            f"CREATE TABLE {name}_input AS SELECT * FROM read_csv('{work / (name + '.csv')}', header = true, "
            "all_varchar = true)"
        )
        con.execute(f"ALTER TABLE {name}_input ALTER birth_date TYPE DATE USING try_cast(birth_date AS DATE)")
    # Splink links tables of the same columns: keep those both sides have (ids, fields, block keys)
    cols = [r[0] for r in con.execute("DESCRIBE left_input").fetchall()]
    right_cols = {r[0] for r in con.execute("DESCRIBE right_input").fetchall()}
    common = ", ".join(f'"{c}"' for c in cols if c in right_cols)
    for name in ("left", "right"):
        con.execute(f"CREATE TABLE {name}_linkable AS SELECT {common} FROM {name}_input")
    timings["read_csv"] = time.monotonic() - t
    db_api = DuckDBAPI(connection=con)
    left = db_api.register("left_linkable", dataset_display_name="a_records")
    right = db_api.register("right_linkable", dataset_display_name="b_residents")
    block_keys = config["block_keys"]
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="id",
        comparisons=[comparison(c) for c in config["comparisons"]],
        blocking_rules_to_generate_predictions=[block_on(k) for k in block_keys],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        max_iterations=int(config.get("max_iterations", 25)),
    )
    linker = Linker([left, right], settings, log_level=int(config.get("log_level", 30)))

    t = time.monotonic()
    linker.training.estimate_probability_two_random_records_match(
        [block_on("name_norm", "birth_date"), block_on("student_no", "birth_date")], recall=0.9
    )
    timings["train_lambda"] = time.monotonic() - t
    t = time.monotonic()
    linker.training.estimate_u_using_random_sampling(max_pairs=float(config.get("u_max_pairs", 1e6)), seed=1)
    timings["train_u"] = time.monotonic() - t
    t = time.monotonic()
    for rule in config.get("em_blocking", [["birth_date"], ["name_norm"]]):
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*rule))
    timings["train_em"] = time.monotonic() - t

    t = time.monotonic()
    predictions = linker.inference.predict()
    timings["predict"] = time.monotonic() - t
    t = time.monotonic()
    out = work / "splink_pairs.csv"
    con.execute(
        f"""COPY (
              SELECT CASE WHEN source_dataset_l = 'a_records' THEN id_l ELSE id_r END AS left_id,
                     CASE WHEN source_dataset_l = 'a_records' THEN id_r ELSE id_l END AS right_id,
                     round(match_weight, 4) AS match_weight
              FROM {predictions.physical_name}
            ) TO '{out}' (HEADER, DELIMITER ',')"""
    )
    pairs = con.execute(f"SELECT count(*) FROM {predictions.physical_name}").fetchone()[0]
    flipped = con.execute(
        f"SELECT count(*) FROM {predictions.physical_name} WHERE source_dataset_l <> 'a_records'"
    ).fetchone()[0]
    timings["write"] = time.monotonic() - t
    timings["total"] = time.monotonic() - t_start
    model = linker.misc.save_model_to_json(str(work / "splink_model.json"), overwrite=True)
    weights = {}
    for c in model.get("comparisons", []):
        for level in c.get("comparison_levels", []):
            if level.get("is_null_level"):
                continue
            weights[f"{c['output_column_name']}:{level.get('label_for_charts')}"] = {
                "m": level.get("m_probability"),
                "u": level.get("u_probability"),
            }
    (work / "splink_timings.json").write_text(
        json.dumps(
            {
                "timings": timings,
                "pairs": pairs,
                "pairs_with_left_as_r": flipped,
                "lambda": model.get("probability_two_random_records_match"),
                "weights": weights,
                "clamped": sorted(set(CLAMPED)),
            },
            indent=1,
        )
    )
    print(f"splink: {pairs} pairs scored in {timings['total']:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
