"""Command line: ingest a run month's extracts from the inbox into raw tables.

python -m mimamori.ingest --month 2026-10                 # every source of the registry
python -m mimamori.ingest --month 2026-10 --source jumin  # one source (repeatable)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mimamori import texttable
from mimamori.ingest.load import SourceResult, ingest_month
from mimamori.ingest.registry import DEFAULT_REGISTRY_DIR, RegistryError, load_registry
from mimamori.ingest.validate import RULES


def _table(results: dict[str, SourceResult]) -> str:
    rows = []
    for name, res in results.items():
        bad_files = {r.file for r in res.rejections}
        for f in res.files:
            status = "REJECTED" if f.file in bad_files else ("ok" if res.ok else "not loaded")
            rows.append((name, f.file, f"raw.{f.raw_table}", str(f.rows_read), str(f.rows_loaded), status))
    return texttable.render(("source", "file", "raw table", "read", "loaded", "status"), rows)


def _parser(settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mimamori.ingest",
        description=(
            "Load the departments' extracts of one run month from <inbox>/<month>/<source>/ into "
            "raw.<raw_table> as one attempt (atomic per source; attempts are kept side by side, a "
            "re-run never changes an earlier attempt's rows). A source with any "
            "problem is not loaded: its bad files move to the quarantine folder and the problems are "
            "recorded in ingest.rejections. Messages never contain personal values."
        ),
        epilog="Rule ids: " + ", ".join(RULES) + ". Exit status 1 when any source was rejected.",
    )
    parser.add_argument("--month", required=True, metavar="YYYY-MM", help="run month (the inbox folder name)")
    parser.add_argument(
        "--source",
        action="append",
        metavar="NAME",
        help="only this source (repeatable; default: every source of the registry)",
    )
    parser.add_argument(
        "--inbox", type=Path, default=settings.inbox_dir, help=f"inbox folder (default {settings.inbox_dir})"
    )
    parser.add_argument(
        "--quarantine",
        type=Path,
        default=settings.quarantine_dir,
        help=f"quarantine folder (default {settings.quarantine_dir})",
    )
    parser.add_argument("--registry", type=Path, default=DEFAULT_REGISTRY_DIR, help="source registry folder")
    parser.add_argument(
        "--town",
        type=Path,
        default=settings.town_dir,
        metavar="DIR",
        help="the town folder whose sources/<source>.yaml map the departments' own exports to the contract"
        f" (default: MIMAMORI_TOWN_DIR, now {settings.town_dir or 'unset: the contract layout'})",
    )
    parser.add_argument("--dsn", default=None, help="libpq URI (default: the warehouse as role loader)")
    parser.add_argument(
        "--run-id",
        default=None,
        metavar="ID",
        help="the attempt these rows belong to (default: a new one, cli__<time>); dbt reads one attempt",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no per-file log lines, only the summary")
    return parser


def _print_findings(month: str, results) -> int:
    """The notices and rejections of each source (Japanese and English); 1 when any source was rejected."""
    noticed = [res for res in results.values() if res.notices]
    if noticed:
        print(f"\nnotices for {month} (mailed to the owners by the monthly run; they do not block):")
        for res in noticed:
            for n in res.notices:
                print(f"  [{res.source}] {n.message_ja}")
    rejected = [res for res in results.values() if not res.ok]
    if rejected:
        print(f"\n{len(rejected)} source(s) rejected for {month}:")
        for res in rejected:
            for r in res.rejections:
                print(f"  [{res.source}] {r.message_ja}")
                print(f"  [{res.source}] {r.message_en}")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    from mimamori.settings import get_settings

    settings = get_settings()
    parser = _parser(settings)
    args = parser.parse_args(argv)

    try:
        registry = load_registry(args.registry)
    except RegistryError as exc:
        print(f"registry error: {exc}", file=sys.stderr)
        return 2
    unknown = [s for s in args.source or [] if s not in registry]
    if unknown:
        parser.error(f"unknown source(s) {', '.join(unknown)}; the registry has {', '.join(registry)}")
    from mimamori.attempts import new_attempt_id
    from mimamori.ingest.limits import Limits

    run_id = args.run_id or new_attempt_id()
    try:
        results = ingest_month(
            args.month,
            args.inbox,
            args.dsn or settings.dsn(role="loader"),
            args.quarantine,
            sources=args.source,
            run_id=run_id,
            limits=Limits.from_settings(settings),
            registry=registry,
            town=args.town,
            log=(lambda _: None) if args.quiet else (lambda line: print(line, file=sys.stderr)),
        )
    except ValueError as exc:
        parser.error(str(exc))
    except OSError as exc:  # psycopg.OperationalError is not one; handled below
        print(f"cannot read the inbox: {exc.__class__.__name__}: {exc.filename}", file=sys.stderr)
        return 2
    except Exception as exc:
        import psycopg

        if isinstance(exc, psycopg.OperationalError):
            print(f"cannot reach the warehouse (is the stack up?): {exc}", file=sys.stderr)
            return 2
        raise
    print(_table(results))
    print(f"\nattempt (run_id): {run_id}")
    return _print_findings(args.month, results)


if __name__ == "__main__":
    sys.exit(main())
