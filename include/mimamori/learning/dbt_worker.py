"""Run many dbt commands on one parsed project: ``mimamori.learning.towns.OneParse``'s worker.

Started with the dbt virtualenv's Python (dbt lives there, docs/decisions.md), in the dbt project
folder and with ``mimamori.dbt.env``. Reads one JSON request a line on stdin
(``{"args": [...]}``); the first must be ``parse``: its manifest serves every later command, so
a month's ``--vars`` (run_month, run_id, skipped_sources) no longer make dbt parse the whole
project again — dbt re-parses everything whenever ``--vars`` change, which cost the benchmark
more than the models themselves. Answers each request with one line ``@@mimamori {json}``:
ok, failures (unique ids), seconds. The project's vars are used only when SQL is compiled (the
macros run_month(), attempt_id(), skipped_sources_relation()), so one parse is valid for every
month (docs/evaluation.md §2: both ways give the same cache, compared on a town's months).
Stands alone: imports dbt only (not mimamori).
"""

from __future__ import annotations

import json
import sys
import time

MARK = "@@mimamori "


def _answer(ok: bool, failures: list[str], seconds: float) -> None:
    print(MARK + json.dumps({"ok": ok, "failures": failures, "seconds": round(seconds, 2)}), flush=True)


def main() -> int:
    from dbt.cli.main import dbtRunner

    runner = None
    for line in sys.stdin:
        request = json.loads(line)
        t0 = time.monotonic()
        if runner is None:
            parsed = dbtRunner().invoke(request["args"])
            ok = bool(parsed.success) and parsed.result is not None
            if ok:
                runner = dbtRunner(manifest=parsed.result)
            _answer(ok, [] if ok else ["parse"], time.monotonic() - t0)
            if not ok:
                return 1
            continue
        result = runner.invoke(request["args"])
        failures = []
        for item in getattr(result.result, "results", None) or []:
            status = str(getattr(item.status, "value", item.status))
            if status in ("error", "fail"):
                failures.append(getattr(getattr(item, "node", None), "unique_id", "?"))
        if result.exception is not None:
            failures.append(type(result.exception).__name__)
        _answer(bool(result.success), failures, time.monotonic() - t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
