"""Splink (DuckDB) on FEBRL 3 / 4 — run by the Splink venv's python for `python -m mimamori.bench.febrl`.

    .local/venv/splink/bin/python include/mimamori/bench/splink_febrl.py CONFIG.json

CONFIG: {"mode": "link" | "dedupe", "files": [csv, …], "ssid": bool, "out": dir}. The settings
follow Splink's own FEBRL 4 tutorial (NameComparison on given name and surname, DateOfBirth,
exact street number, Damerau–Levenshtein postcode, Jaro–Winkler address and suburb, exact state;
soc_sec_id only when "ssid"), u by random sampling, λ from deterministic rules, m by EM on two
blocking rules. Writes predictions.csv (id_l, id_r, match_probability ≥ 0.01), clusters.csv
(dedupe, at 0.5) and timings.json into "out". Standard library + splink + duckdb only.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from pathlib import Path

FIELDS = [
    "rec_id",
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
]


def main(config_path: Path) -> int:
    t0 = time.monotonic()
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    config = json.loads(config_path.read_text())
    out = Path(config["out"])
    timings = {"import": time.monotonic() - t0}
    t = time.monotonic()
    con = duckdb.connect()
    con.execute("SET threads = 2")
    names = []
    for n, path in enumerate(config["files"]):
        name = f"febrl_{n}"
        cols = ", ".join(f"nullif(trim(\"{c}\"), '') as {c}" for c in FIELDS)
        con.execute(
            f"create table raw_{n} as select * from read_csv('{path}', header = true, all_varchar = true, "
            "delim = ',', quote = '\"')"
        )
        for c in [r[0] for r in con.execute(f"describe raw_{n}").fetchall()]:
            if c != c.strip():
                con.execute(f'alter table raw_{n} rename "{c}" to "{c.strip()}"')
        con.execute(f"create table {name} as select {cols} from raw_{n}")
        names.append(name)
    timings["read_csv"] = time.monotonic() - t
    db_api = DuckDBAPI(connection=con)
    tables = [db_api.register(n, dataset_display_name=n) for n in names]
    comparisons = [
        cl.NameComparison("given_name"),
        cl.NameComparison("surname"),
        cl.DateOfBirthComparison(
            "date_of_birth", input_is_string=True, datetime_format="%Y%m%d", invalid_dates_as_null=True
        ),
        cl.ExactMatch("street_number"),
        cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]),
        cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
        cl.JaroWinklerAtThresholds("address_2", [0.9, 0.7]),
        cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
        cl.ExactMatch("state"),
    ]
    if config["ssid"]:
        comparisons.append(cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]))
    blocking = [
        block_on("given_name"),
        block_on("surname"),
        block_on("date_of_birth"),
        block_on("postcode", "street_number"),
    ]
    if config["ssid"]:
        blocking.append(block_on("soc_sec_id"))
    settings = SettingsCreator(
        link_type="link_only" if config["mode"] == "link" else "dedupe_only",
        unique_id_column_name="rec_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(tables, settings)
    t = time.monotonic()
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth")], recall=0.6
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name", "surname"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    timings["train"] = time.monotonic() - t
    t = time.monotonic()
    predictions = linker.inference.predict(threshold_match_probability=0.01)
    rows = con.execute(f"select rec_id_l, rec_id_r, match_probability from {predictions.physical_name}").fetchall()
    clusters = []
    if config["mode"] == "dedupe":
        clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.5)
        clusters = con.execute(f"select rec_id, cluster_id from {clustered.physical_name}").fetchall()
    timings["predict"] = time.monotonic() - t
    timings["total"] = time.monotonic() - t0
    out.mkdir(parents=True, exist_ok=True)
    with (out / "predictions.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([("id_l", "id_r", "match_probability"), *rows])
    with (out / "clusters.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([("rec_id", "cluster_id"), *clusters])
    (out / "timings.json").write_text(json.dumps(timings))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
