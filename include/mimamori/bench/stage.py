"""One bare stage of the month in its own process (so that its peak memory is its own).

    python -m mimamori.bench.stage generate|load|raw_gate|model_gates|publish --month M --work DIR

The functions are exactly what the DAG's tasks call (mimamori.pipeline, mimamori.synth); the
last output line is ``BENCH_RESULT {json}`` with counts (never a personal value).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

# Run as a script (the measured code may be a snapshot without this package): keep this folder
# off sys.path so that its modules never shadow a library's.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

RESULT_PREFIX = "BENCH_RESULT "


def _generate(args, settings) -> dict:
    from mimamori import synth

    summary = synth.generate(
        Path(args.town),
        seed=args.seed,
        scale=args.scale,
        months=args.months,
        end_month=args.month,
        progress=lambda line: print(line, flush=True),
    )
    rows = summary.rows.get(args.month, {})
    return {
        "rows_out": sum(rows.values()),
        "files": len(rows),
        "residents": summary.residents.get(args.month),
        "bytes_written": summary.bytes_written,
    }


def _load(args, settings) -> dict:
    from mimamori.ingest.registry import load_registry
    from mimamori.pipeline import DataRejected, SourceSkipped, load_source

    read = loaded = 0
    rejected = []
    for name in load_registry():
        try:
            out = load_source(settings, name, args.month, args.run_id)
        except (DataRejected, SourceSkipped) as exc:
            rejected.append(f"{name}: {exc}")
            continue
        read += sum(f["rows_read"] for f in out["files"])
        loaded += sum(f["rows_loaded"] for f in out["files"])
    return {"rows_in": read, "rows_out": loaded, "rejected": rejected}


def _gate_counts(out: dict) -> dict:
    checks = failed = 0
    for result in out["results"].values():
        checks += result.get("checks") or 0
        failed += len(result.get("failed") or [])
    return {"checks": checks, "failed": failed, "blocking": out["decision"].get("blocking", [])}


def _raw_gate(args, settings) -> dict:
    from mimamori.pipeline import raw_gate

    out = raw_gate(settings, args.month, args.run_id)
    Path(args.work, "raw_gate.json").write_text(json.dumps(out, default=str))
    return _gate_counts(out)


def _model_gates(args, settings) -> dict:
    from mimamori.pipeline import model_gates

    out = model_gates(settings, args.month, args.run_id)
    Path(args.work, "model_gates.json").write_text(json.dumps(out, default=str))
    return _gate_counts(out)


def _publish(args, settings) -> dict:
    # The bench builds with dbt on its own (no `build` step of the attempt), so it times the
    # publication itself rather than the DAG's verdict around it.
    from mimamori import publish
    from mimamori.pipeline import published_relations

    tables, pseudo = published_relations(settings)
    publish.publish(settings, args.month, tables, pseudo, run_id=args.run_id)
    return {"tables": len(tables), "pseudo_tables": len(pseudo)}


STAGES = {
    "generate": _generate,
    "load": _load,
    "raw_gate": _raw_gate,
    "model_gates": _model_gates,
    "publish": _publish,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mimamori.bench.stage")
    parser.add_argument("stage", choices=sorted(STAGES))
    parser.add_argument("--month", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--town")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--months", type=int, default=1)
    parser.add_argument("--run-id", default=None, help="the attempt every stage works on (default bench__<month>)")
    args = parser.parse_args(argv)
    args.run_id = args.run_id or f"bench__{args.month}"
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from mimamori.settings import get_settings

    settings = get_settings()
    started = time.monotonic()
    try:
        result = STAGES[args.stage](args, settings)
        result["ok"] = True
    except Exception as exc:  # noqa: BLE001 - reported, the benchmark goes on
        result = {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:500]}"}
    result["inner_seconds"] = round(time.monotonic() - started, 2)
    print(RESULT_PREFIX + json.dumps(result, default=str), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
