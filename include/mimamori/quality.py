"""Quality gates with Great Expectations (GX Core 1.x): raw, identity and marts (docs/quality.md).

The suites are code in :mod:`mimamori.expectations` (their checks, thresholds in
``include/mimamori/expectations/thresholds.yml``); this module turns them into GX suites (add-or-update), runs one
checkpoint per source over a batch of the run month, builds the data docs into
``<state_dir>/gx/data_docs`` and returns a :class:`GateResult` per source.

Nothing personal leaves a gate: GX runs with ``SUMMARY`` and ``partial_unexpected_count: 0`` (no
unexpected values or index lists in results, logs or data docs); the row numbers of offending
rows (``source_row_number``) are computed here by our own SQL, capped at
:data:`ROW_LIST_LIMIT`, and reported with a count — per delivered file, with the column as
delivered, when a town's mapping made the raw table (mimamori.sources.lineage). GX is imported once per call (~3–6 s), so a
stage validates all of its sources in one call.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mimamori.expectations import checks as suite_checks
from mimamori.expectations import identity_suite, marts_suite, raw_suites
from mimamori.gate_relations import THRESHOLDS, GateConfigError, Resolver
from mimamori.gate_relations import relation_info as _relation_info
from mimamori.months import month_before, validate_month
from mimamori.settings import Settings

__all__ = ["GateConfigError"]  # raised by every gate whose configured relation or column is missing

log = logging.getLogger("mimamori.quality")

ROW_LIST_LIMIT = 20
#: Keeps no unexpected values, no index lists: only counts (style.md, GX section).
RESULT_FORMAT = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": 0,
    "include_unexpected_rows": False,
    "return_unique_unexpected": False,
}
DATASOURCE = "warehouse"
#: Environment variable GX substitutes into the connection string (never written to disk).
GX_URL_ENV = "MIMAMORI_GX_WAREHOUSE_URL"
#: The data-docs index lists the latest validations only (building it reads each one).
DOCS_INDEX_LIMIT = 150


@dataclass
class GateResult:
    """The outcome of one gate for one source (or ``marts``). JSON-able via :meth:`to_dict`.

    ``failed`` items: ``{stage, check_id, expectation, description_ja, file, column,
    unexpected_count, rows (≤ 20 source_row_numbers, raw/identity only), observed, docs_url}`` —
    counts, row numbers and aggregate shares only.
    """

    source: str
    stage: str  # raw | identity | marts
    success: bool
    skipped: bool = False
    failed: list[dict] = field(default_factory=list)
    reason: str | None = None  # why skipped (not evaluated)
    docs_url: str | None = None
    checks: int = 0
    seconds: float = 0.0
    run_id: str | None = None  # the attempt whose rows (or build) were validated
    #: things the data owner should know that do not fail the gate: ``{kind, file, code_point,
    #: count}`` (identity: private-use characters the town's 外字 table does not map) and
    #: ``{kind: check, stage, check_id, description_ja, file, column, count, rows, docs_page}``
    #: (a check of severity ``notice`` that fired, e.g. an age outside 0–18 in a children's file)
    notices: list[dict] = field(default_factory=list)
    #: one per validation (suite) of the source: ``{suite, file, page (path in the data docs),
    #: success, checks: [{check_id, column, description_ja, success}]}`` — for the Japanese summary
    pages: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | GateResult) -> GateResult:
        if isinstance(data, GateResult):
            return data
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


# --------------------------------------------------------------------------- helpers


def load_thresholds(settings: Settings) -> dict:
    """The gates' thresholds (mimamori/expectations/thresholds.yml)."""
    return suite_checks.load_thresholds()


def _connect(settings: Settings):
    from mimamori import db

    return db.connect(settings, role="transformer", autocommit=True)


def _sqlalchemy_url(settings: Settings) -> str:
    dsn = settings.dsn(role="transformer")
    return dsn.replace("postgresql://", "postgresql+psycopg://", 1)


def gx_dir(settings: Settings) -> Path:
    return Path(settings.state_dir) / "gx"


def docs_dir(settings: Settings) -> Path:
    return gx_dir(settings) / "data_docs"


def docs_page(settings: Settings, page: str | None) -> str:
    """A data-docs page's path inside the data docs (from GX's file:// URL or a relative path)."""
    if page and page.startswith("file://"):
        from urllib.parse import unquote

        page = Path(unquote(page[len("file://") :])).relative_to(docs_dir(settings)).as_posix()
    return page or "index.html"


def docs_url(settings: Settings, page: str | None = None) -> str:
    """URL of a data-docs page (or GX's index) under the docs base URL (MIMAMORI_DOCS_BASE_URL + /gx)."""
    return settings.gx_docs_url.rstrip("/") + "/" + docs_page(settings, page)


def month_docs_url(settings: Settings, run_month: str | None = None) -> str:
    """The Japanese summary of a month's gates (or the months' index) in the data docs: the mails' link."""
    from mimamori.gxdocs import month_path

    return docs_url(settings, month_path(run_month))


def _gx_context(settings: Settings):
    """An ephemeral GX context with filesystem stores under <state_dir>/gx (one import per call)."""
    started = time.monotonic()
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    log.info("great_expectations %s imported in %.1fs", gx.__version__, time.monotonic() - started)
    root = gx_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    # Suites, validation definitions and checkpoints live in memory (the code in mimamori.expectations
    # is their source of truth); only validation results (counts, no values) persist, for the docs.
    stores = InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
    stores.stores[stores.validation_results_store_name]["store_backend"] = {
        "class_name": "TupleFilesystemStoreBackend",
        "base_directory": str(root / "validations"),
    }
    from mimamori.gxdocs import site_config

    config = DataContextConfig(
        store_backend_defaults=stores,
        # GX's site builder with Japanese views that load their assets from the site itself (gxdocs)
        data_docs_sites={"local_site": site_config(docs_dir(settings), DOCS_INDEX_LIMIT)},
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(project_config=config)
    os.environ[GX_URL_ENV] = _sqlalchemy_url(settings)
    datasource = context.data_sources.add_or_update_postgres(name=DATASOURCE, connection_string="${" + GX_URL_ENV + "}")
    return gx, context, datasource


def _offending_rows(conn, spec, check) -> tuple[int, list[int]]:
    """Count and first ROW_LIST_LIMIT row numbers of the batch rows that break ``check`` (own SQL)."""
    cte = f"with batch as ({spec.query}) "
    count = conn.execute(cte + f"select count(*) from batch where {check.rows_where}").fetchone()[0]
    rows: list[int] = []
    if check.row_column:
        rows = [
            r[0]
            for r in conn.execute(
                cte + f'select "{check.row_column}" from batch where {check.rows_where}'
                f" order by 1 limit {ROW_LIST_LIMIT}"
            ).fetchall()
        ]
    return int(count), rows


def _as_delivered(conn, stage: str, spec, check, item: dict, run_month: str, run_id: str | None) -> list[dict]:
    """A raw item told per delivered file when a town's mapping made the table (mimamori.sources.lineage)."""
    from mimamori.sources.lineage import delivered_items, raw_table_of

    raw_table = raw_table_of(spec.name) if stage == "raw" else None
    if raw_table is None:
        return [item]
    rows_where = check.rows_where if check else None
    return delivered_items(conn, item, raw_table, spec.query, rows_where, run_month, run_id)


def _run_name(run_month: str, stage: str, run_id: str | None) -> str:
    """GX's run name: month, stage and attempt (file-name safe), so attempts never overwrite each other."""
    attempt = re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id or "")
    return f"{run_month}-{stage}" + (f"-{attempt}" if attempt else "")


def _run_checkpoints(gx, context, datasource, stage: str, run_month: str, groups: dict[str, list], run_id):
    """One GX checkpoint per group (source): [(source, seconds, outcome, spec per suite)], suite ids."""
    import great_expectations.expectations as gxe
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    outcomes = []
    suite_ids = []
    for source, specs in groups.items():
        started = time.monotonic()
        by_suite = {}
        definitions = []
        for spec in specs:
            asset = datasource.add_query_asset(name=spec.asset, query=spec.query)
            batch = asset.add_batch_definition_whole_table("run_month")
            suite = context.suites.add(  # a fresh in-memory store per call
                gx.ExpectationSuite(
                    name=spec.name,
                    expectations=[check.to_gx(gxe) for check in spec.checks],
                    meta={"notes": f"mimamori {stage} gate ({source})"},
                )
            )
            suite_ids.append(ExpectationSuiteIdentifier(name=spec.name))
            definitions.append(
                context.validation_definitions.add(gx.ValidationDefinition(name=spec.name, data=batch, suite=suite))
            )
            by_suite[spec.name] = spec
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=f"{stage}.{source}",
                validation_definitions=definitions,
                actions=[],  # data docs are built once per call, below
                result_format=RESULT_FORMAT,
            )
        )
        outcome = checkpoint.run(run_id=RunIdentifier(run_name=_run_name(run_month, stage, run_id)))
        outcomes.append((source, time.monotonic() - started, outcome, by_suite))
    return outcomes, suite_ids


def _described(validation, checks: dict) -> list[dict]:
    """Every check of one validation as the docs' summary page lists it."""
    described = []
    for r in validation.results:
        check = checks.get((r.expectation_config.meta or {}).get("check_id"))
        described.append(
            {
                "check_id": check.check_id if check else None,
                "column": (check.column if check else None) or r.expectation_config.kwargs.get("column"),
                "description_ja": check.description_ja if check else r.expectation_config.type,
                "success": bool(r.success),
                "severity": check.severity if check else "block",
            }
        )
    return described


def _missing_columns(validation) -> set:
    return {
        r.expectation_config.kwargs.get("column")
        for r in validation.results
        if not r.success and r.expectation_config.type == "expect_column_to_exist"
    }


def _about_missing_column(cfg, raised: bool, missing_columns: set) -> bool:
    """A check that could not run because its column is missing: reported once, as the missing column."""
    return raised and bool(
        missing_columns & {cfg.kwargs.get(k) for k in ("column", "column_A", "column_B")}
        or any(c in missing_columns for c in cfg.kwargs.get("column_list") or [])
    )


@dataclass
class _SourceFindings:
    """What one source's validations found: failures, notices that fired, the docs pages, the count."""

    failed: list[dict] = field(default_factory=list)
    notices: list[dict] = field(default_factory=list)  # checks of severity notice that fired: told, not failed
    pages: list[dict] = field(default_factory=list)
    n_checks: int = 0


def _docs_page(settings: Settings, context, key) -> str | None:
    try:
        page = context.get_docs_sites_urls(resource_identifier=key, site_name="local_site")[0]["site_url"]
        return docs_page(settings, page)
    except Exception:  # noqa: BLE001 - a missing docs page must not hide a failed gate
        return None


def _failure_item(stage: str, spec, check, r, raised: bool, page: str | None, page_url) -> dict[str, Any]:
    cfg = r.expectation_config
    observed = (r.result or {}).get("observed_value")
    return {
        "stage": stage,
        "check_id": check.check_id if check else None,
        "expectation": cfg.type,
        "description_ja": check.description_ja if check else cfg.type,
        "file": spec.file or (check.file if check else None),
        "column": check.column if check else cfg.kwargs.get("column"),
        "unexpected_count": (r.result or {}).get("unexpected_count"),
        "rows": [],
        "observed": observed if isinstance(observed, int | float) else None,
        "error": raised,
        "docs_url": page_url,
        "docs_page": page,
    }


def _notice(stage: str, check, item: dict, page: str | None) -> dict[str, Any]:
    return {
        "kind": "check",
        "stage": stage,
        "check_id": check.check_id,
        "description_ja": check.description_ja,
        "file": item["file"],
        "column": item["column"],
        "count": item["unexpected_count"],
        "rows": item["rows"],
        "docs_page": page,
    }


def _read_validation(settings, context, conn, stage, run_month, run_id, key, validation, spec, found) -> None:
    """One suite's validation into ``found`` (_SourceFindings)."""
    checks = {c.check_id: c for c in spec.checks}
    page = _docs_page(settings, context, key)
    page_url = docs_url(settings, page)
    described = _described(validation, checks)
    if page:
        found.pages.append(
            {
                "suite": spec.name,
                "file": spec.file,
                "page": page,
                # a notice that fired does not fail the file (GX's own page still shows it)
                "success": all(d["success"] or d["severity"] == "notice" for d in described),
                "checks": described,
            }
        )
    missing_columns = _missing_columns(validation)
    found.n_checks += len(validation.results)
    for r in validation.results:
        if r.success:
            continue
        cfg = r.expectation_config
        check = checks.get((cfg.meta or {}).get("check_id"))
        raised = bool(r.exception_info and r.exception_info.get("raised_exception"))
        if _about_missing_column(cfg, raised, missing_columns):
            continue
        item = _failure_item(stage, spec, check, r, raised, page, page_url)
        if raised:  # the message is not logged: it could quote a value
            log.error("%s %s: %s could not be evaluated", stage, spec.name, cfg.type)
        if check and check.rows_where and not raised:
            item["unexpected_count"], item["rows"] = _offending_rows(conn, spec, check)
        if check and check.severity == "notice" and not raised:
            found.notices.append(_notice(stage, check, item, page))
            continue
        found.failed.extend(_as_delivered(conn, stage, spec, check, item, run_month, run_id))


def _log_result(stage: str, source: str, run_month: str, result: GateResult) -> None:
    log.info(
        "%s gate %s %s: %s (%d expectations, %d failed, %.1fs)",
        stage,
        source,
        run_month,
        "ok" if not result.failed else "FAILED",
        result.checks,
        len(result.failed),
        result.seconds,
    )
    for n in result.notices:
        log.info("%s gate %s: notice %s %s: %s row(s)", stage, source, n["file"] or "", n["check_id"], n["count"])
    for item in result.failed:
        log.warning(
            "%s gate %s: %s %s %s: %s row(s)%s",
            stage,
            source,
            item["file"] or "",
            item["expectation"],
            item["column"] or "",
            item["unexpected_count"] if item["unexpected_count"] is not None else "-",
            (" rows " + ",".join(map(str, item["rows"]))) if item["rows"] else "",
        )


def _run(
    settings: Settings, stage: str, run_month: str, groups: dict[str, list], conn, run_id: str | None = None
) -> dict[str, GateResult]:
    """Run one checkpoint per group (source) of SuiteSpecs; one GX context for all."""
    if not groups:
        return {}
    gx, context, datasource = _gx_context(settings)
    outcomes, suite_ids = _run_checkpoints(gx, context, datasource, stage, run_month, groups, run_id)
    docs_started = time.monotonic()
    keys = [key for _, _, outcome, _ in outcomes for key in outcome.run_results]
    context.build_data_docs(site_names=["local_site"], resource_identifiers=keys + suite_ids)
    from mimamori.gxdocs import install_assets

    install_assets(settings, docs_dir(settings))
    log.info("%s gate %s: data docs built in %.1fs", stage, run_month, time.monotonic() - docs_started)
    results: dict[str, GateResult] = {}
    for source, validated_in, outcome, by_suite in outcomes:
        started = time.monotonic() - validated_in
        found = _SourceFindings()
        for key, validation in outcome.run_results.items():
            spec = by_suite[key.expectation_suite_identifier.name]
            _read_validation(settings, context, conn, stage, run_month, run_id, key, validation, spec, found)
        results[source] = GateResult(
            source=source,
            stage=stage,
            success=not found.failed,
            failed=found.failed,
            docs_url=month_docs_url(settings, run_month),
            checks=found.n_checks,
            seconds=round(time.monotonic() - started, 2),
            run_id=run_id,
            pages=found.pages,
            notices=found.notices,
        )
        _log_result(stage, source, run_month, results[source])
    return results


def _recorded(settings: Settings, stage: str, run_month: str, results: dict[str, GateResult]) -> dict[str, GateResult]:
    """The stage's results, kept for the month's Japanese summary page in the data docs (gxdocs)."""
    from mimamori.gxdocs import record

    for r in results.values():
        r.docs_url = month_docs_url(settings, run_month)
    record(settings, docs_dir(settings), run_month, stage, results)
    return results


# --------------------------------------------------------------------------- gates


def _baseline_attempt(conn, month: str, raw_table: str) -> str | None:
    """The attempt a month's row count is compared with: the one published, else the latest load."""
    published = conn.execute(
        "select exists (select 1 from information_schema.columns where table_schema = 'published'"
        " and table_name = 'publication' and column_name = 'run_id')"
    ).fetchone()[0]
    if published:
        row = conn.execute(
            "select run_id from published.publication where run_month = %s and run_id is not null"
            " order by published_at desc limit 1",
            (month,),
        ).fetchone()
        if row:
            return row[0]
    row = conn.execute(
        "select run_id from ingest.file_loads where run_month = %s and raw_table = %s order by loaded_at desc limit 1",
        (month, raw_table),
    ).fetchone()
    return row[0] if row else None


def _previous_rows(conn, source, previous: str) -> dict[str, int | None]:
    prev_rows: dict[str, int | None] = {}
    for spec in source.files:
        exists = conn.execute("select to_regclass(%s) is not null", (f"raw.{spec.raw_table}",)).fetchone()[0]
        attempt = _baseline_attempt(conn, previous, spec.raw_table) if exists else None
        count = 0
        if attempt:
            count = conn.execute(
                f'select count(*) from raw."{spec.raw_table}" where run_month = %s and run_id = %s', (previous, attempt)
            ).fetchone()[0]
        prev_rows[spec.raw_table] = count or None
    return prev_rows


def validate_raw(
    settings: Settings,
    run_month: str,
    sources: list[str] | None = None,
    *,
    run_id: str | None = None,
    registry: dict | None = None,
    thresholds: dict | None = None,
) -> dict[str, GateResult]:
    """The raw gate of every (or the named) source for one attempt of the run month, one GX import for all.

    ``run_id``: the attempt (default: the month's latest). A source this attempt rejected at
    ingestion (rows in ``ingest.rejections``) or did not load (no ``ingest.file_loads`` row) is
    not validated: ``skipped=True, success=False`` with the reason.
    """
    from mimamori.ingest.registry import load_registry

    validate_month(run_month)
    registry = registry if registry is not None else load_registry()
    thresholds = thresholds if thresholds is not None else suite_checks.load_thresholds()
    previous = month_before(run_month)
    names = sources or list(registry)
    results: dict[str, GateResult] = {}
    groups: dict[str, list] = {}
    with _connect(settings) as conn:
        from mimamori.attempts import latest_attempt

        check_raw_config(Resolver(settings, conn), thresholds, registry)

        have_ingest = conn.execute(
            "select to_regclass('ingest.rejections') is not null and to_regclass('ingest.file_loads') is not null"
        ).fetchone()[0]
        run_id = run_id or (latest_attempt(conn, run_month) if have_ingest else None) or ""
        for name in names:
            source = registry[name]
            rejected = loaded = 0
            if have_ingest:
                where = "where run_month = %s and source = %s and run_id = %s"
                rejected = conn.execute(
                    f"select count(*) from ingest.rejections {where}", (run_month, name, run_id)
                ).fetchone()[0]
                loaded = conn.execute(
                    f"select count(*) from ingest.file_loads {where}", (run_month, name, run_id)
                ).fetchone()[0]
            if rejected or not loaded:
                reason = "rejected_at_ingestion" if rejected else "not_loaded"
                results[name] = GateResult(name, "raw", success=False, skipped=True, reason=reason, run_id=run_id)
                log.warning("raw gate %s %s: not validated (%s)", name, run_month, reason)
                continue
            prev_rows = _previous_rows(conn, source, previous)
            groups[name] = raw_suites.source_suites(source, run_month, thresholds, prev_rows, run_id=run_id)
        results.update(_run(settings, "raw", run_month, groups, conn, run_id))
    return _recorded(settings, "raw", run_month, {name: results[name] for name in names})


def check_raw_config(resolve: Resolver, thresholds: dict, registry: dict) -> None:
    """Every raw table ``thresholds.yml`` ``raw`` names is a raw source of the dbt project (its
    manifest) and of the registry, and a named birth-date column is one of the file's columns: a
    misspelt name would otherwise never be checked. (A raw table exists in the warehouse only once
    a file was loaded, so the file's columns come from the registry.)"""
    raw = thresholds.get("raw") or {}
    specs = {spec.raw_table: spec for source in registry.values() for spec in source.files}
    named = [
        (f"raw.children_ages.files.{t}", t, c) for t, c in ((raw.get("children_ages") or {}).get("files") or {}).items()
    ]
    named += [
        (f"raw.row_count_band.per_table.{t}", t, None) for t in (raw.get("row_count_band") or {}).get("per_table") or {}
    ]
    for key, table, column in named:
        resolve.qualified(key, f"raw.{table}")
        if table not in specs:
            raise GateConfigError(f"{THRESHOLDS} {key}: {table!r} is no file of the source registry")
        if column is not None and column not in {c.column for c in specs[table].columns}:
            raise GateConfigError(f"{THRESHOLDS} {key} = {column!r}: no such column in raw.{table}")


def validate_identity(
    settings: Settings,
    run_month: str,
    *,
    run_id: str | None = None,
    registry: dict | None = None,
    thresholds: dict | None = None,
    schemas: dict[str, str] | None = None,
) -> dict[str, GateResult]:
    """Share of each source's records unmatched / in review after 名寄せ, per source.

    The link relation and its columns are resolved through dbt's manifest (mimamori.gate_relations;
    ``schemas`` maps its schemas to others, for tests): one that is missing raises
    :class:`GateConfigError`. A source without link rows this month is skipped.
    """
    from mimamori.ingest.registry import load_registry

    validate_month(run_month)
    registry = registry if registry is not None else load_registry()
    thresholds = thresholds if thresholds is not None else suite_checks.load_thresholds()
    cfg = thresholds.get("identity", {})
    results: dict[str, GateResult] = {}
    with _connect(settings) as conn:
        relation, cols = Resolver(settings, conn, schemas)(
            "identity.relation",
            cfg.get("relation", "int_identity__links"),
            [
                ("identity.raw_table_column", cfg.get("raw_table_column", "raw_table")),
                ("identity.status_column", cfg.get("status_column", "link_status")),
            ],
        )
        has_month = "run_month" in cols
        counts = dict(
            conn.execute(
                f"select {suite_checks.qi(cfg.get('raw_table_column', 'raw_table'))}, count(*) from {suite_checks.qrel(relation)}"
                + (" where run_month = %s" if has_month else "")
                + " group by 1",
                (run_month,) if has_month else (),
            ).fetchall()
        )
        groups = {}
        for name, source in registry.items():
            spec = identity_suite.source_suite(
                source,
                run_month,
                thresholds,
                relation,
                link_counts=counts,
                has_run_month=has_month,
                has_row_number="source_row_number" in cols,
            )
            if spec is None:
                results[name] = GateResult(
                    name, "identity", success=True, skipped=True, reason="no_link_rows", run_id=run_id
                )
            else:
                groups[name] = [spec]
        results.update(_run(settings, "identity", run_month, groups, conn, run_id))
        for name, notices in unmapped_private_use(conn, registry).items():
            if name in results:
                results[name].notices = [*results[name].notices, *notices]
    return _recorded(settings, "identity", run_month, {name: results[name] for name in registry})


def unmapped_private_use(conn, registry: dict) -> dict[str, list[dict]]:
    """Per source: private-use characters (外字) of this month's names that the town's 外字 table
    does not map (``int_identity__private_use_characters``) — file, code point and the number of
    records, never a name or a row. Not a failure: the records still match (the character is a
    wildcard), but the town should add the character to seeds/identity/gaiji_map.csv."""
    relation, cols = _relation_info(conn, "int_identity__private_use_characters")
    if not relation or not {"raw_table", "code_point", "n_records", "is_mapped"} <= cols:
        return {}
    by_table = {spec.raw_table: (name, spec.file) for name, source in registry.items() for spec in source.files}
    out: dict[str, list[dict]] = {}
    schema, table = relation.split(".", 1)
    for raw_table, code_point, count in conn.execute(
        f'select raw_table, code_point, n_records from "{schema}"."{table}" where not is_mapped'
        " order by raw_table, code_point"
    ).fetchall():
        if raw_table in by_table:
            name, file = by_table[raw_table]
            out.setdefault(name, []).append(
                {"kind": "unmapped_private_use", "file": file, "code_point": code_point, "count": int(count)}
            )
    return out


def _flagged_share_spec(conn, resolve, run_month: str, thresholds: dict, scores: str, scores_cols, notices: list):
    """The flagged share per type against last month's, or — when the rules behind it changed since
    — a notice with the change (a moved share is expected then: reported, not held against the band)."""
    m = thresholds.get("marts", {})
    scores_cfg = m.get("scores", {})
    type_col = scores_cfg.get("type_column", "type_code")
    flag_col = scores_cfg.get("flagged_column", "is_flagged")
    s_month = "run_month" in scores_cols
    qt, qf = suite_checks.qi(type_col), suite_checks.qi(flag_col)
    types = [
        r[0]
        for r in conn.execute(
            f"select distinct {qt} from {suite_checks.qrel(scores)}" + (" where run_month = %s" if s_month else ""),
            (run_month,) if s_month else (),
        ).fetchall()
        if r[0] is not None
    ]
    history, _ = resolve(
        "marts.scores_history",
        m.get("scores_history", "history.child_type_scores"),
        [
            ("marts.scores.type_column", type_col),
            ("marts.scores.flagged_column", flag_col),
            ("marts.scores_history", "run_month"),
        ],
        may_be_absent=True,
    )
    previous: dict[str, float] = {}
    if history:
        previous = {
            t: float(share)
            for t, share in conn.execute(
                f"select {qt}, avg({qf}::int) from {suite_checks.qrel(history)} where run_month = %s group by 1",
                (month_before(run_month),),
            ).fetchall()
            if share is not None
        }
    change = rules_change(conn, run_month, m, suite_checks.qrel) if previous else None
    if change:
        current = _flagged_shares(conn, scores, qt, qf, run_month if s_month else None)
        notices.append(rules_changed_notice(change, previous, current))
        log.warning("marts gate %s: rules changed since %s, flagged share reported", run_month, change["since"])
        return None
    return marts_suite.flagged_share_suite(
        run_month, thresholds, scores, has_run_month=s_month, types=types, previous=previous
    )


def _evidence_spec(resolve, run_month: str, thresholds: dict, scores: str, scores_cols):
    """Every flag has its evidence. A check that cannot run must not pass quietly ("every flag has
    evidence" never ran for months because its relation was misnamed): ``resolve`` raises
    :class:`GateConfigError` naming the configuration key when the relation or a column is missing."""
    evidence_cfg = thresholds.get("marts", {}).get("evidence", {})
    needed = [
        (f"marts.evidence.{k}", evidence_cfg.get(k, d))
        for k, d in (("person_column", "person_id"), ("type_column", "type_code"), ("points_column", None))
        if evidence_cfg.get(k, d)
    ]
    evidence, evidence_cols = resolve(
        "marts.evidence.relation", evidence_cfg.get("relation", "marts.child_type_items"), needed
    )
    if not evidence:
        return None
    return marts_suite.evidence_suite(
        run_month,
        thresholds,
        scores,
        evidence,
        scores_month="run_month" in scores_cols,
        evidence_month="run_month" in evidence_cols,
    )


def _marts_specs(conn, resolve, run_month: str, thresholds: dict, notices: list) -> list:
    """The marts gate's suites, every configured relation resolved through dbt's manifest."""
    m = thresholds.get("marts", {})
    specs = []
    scores_cfg = m.get("scores", {})
    scores, scores_cols = resolve(
        "marts.scores.relation",
        scores_cfg.get("relation", "marts.child_type_scores"),
        [
            ("marts.scores.person_column", scores_cfg.get("person_column", "person_id")),
            ("marts.scores.type_column", scores_cfg.get("type_column", "type_code")),
            ("marts.scores.flagged_column", scores_cfg.get("flagged_column", "is_flagged")),
        ],
    )
    if scores:
        for spec in (
            _flagged_share_spec(conn, resolve, run_month, thresholds, scores, scores_cols, notices),
            _evidence_spec(resolve, run_month, thresholds, scores, scores_cols),
        ):
            if spec:
                specs.append(spec)
    for i, item in enumerate(m.get("ages", [])):
        key = f"marts.ages[{i}]"
        relation, cols = resolve(f"{key}.relation", item.get("relation"), [(f"{key}.column", item.get("column"))])
        if relation:
            specs.append(
                marts_suite.age_suite(
                    run_month, thresholds, relation, item["column"], has_run_month="run_month" in cols
                )
            )
    return specs


def validate_marts(
    settings: Settings,
    run_month: str,
    *,
    run_id: str | None = None,
    thresholds: dict | None = None,
    schemas: dict[str, str] | None = None,
) -> dict[str, GateResult]:
    """Flagged share per type vs last month, evidence behind every flag, ages 0–18: ``{'marts': GateResult}``.

    Every relation and column of ``thresholds.yml`` ``marts`` is resolved through dbt's manifest
    (mimamori.gate_relations; ``schemas`` maps its schemas to others, for tests); one that is
    missing raises :class:`GateConfigError` — no part of the gate is dropped. Only the history of
    last month's shares may be absent (before the first publication).
    """
    validate_month(run_month)
    thresholds = thresholds if thresholds is not None else suite_checks.load_thresholds()
    notices: list[dict] = []
    with _connect(settings) as conn:
        resolve = Resolver(settings, conn, schemas)
        specs = _marts_specs(conn, resolve, run_month, thresholds, notices)
        if not specs:
            log.warning("marts gate %s: skipped (no mart relation found)", run_month)
            skipped = GateResult(
                "marts", "marts", success=True, skipped=True, reason="marts_absent", run_id=run_id, notices=notices
            )
            return _recorded(settings, "marts", run_month, {"marts": skipped})
        results = _run(settings, "marts", run_month, {"marts": specs}, conn, run_id)
        results["marts"].notices = notices
        return _recorded(settings, "marts", run_month, results)


#: the seeds whose change moves the flagged share (types: thresholds, ages; type_items: weights,
#: groups, required; item_catalogue: look-backs, parameters, enabled)
SHARE_RULE_SEEDS = ("types", "type_items", "item_catalogue")


def rules_change(conn, run_month: str, marts_cfg: dict, qrel) -> dict | None:
    """``{since, changes}`` when the rules the build used differ from the last published snapshot.

    The snapshot is ``history.rules_snapshot`` (written for every published month by the report
    task, mimamori.report.snapshot_rules); the latest one before ``run_month`` is compared with the
    ``rules`` seeds as they are now (what the month's dbt build read). None when nothing changed or
    no earlier month was published. ``marts_cfg["rules"]`` may name another snapshot/schema (tests).
    """
    from mimamori import report

    cfg = marts_cfg.get("rules", {})
    snapshot, schema = cfg.get("snapshot", "history.rules_snapshot"), cfg.get("schema", "rules")
    seeds = list(cfg.get("seeds", SHARE_RULE_SEEDS))
    if not conn.execute("select to_regclass(%s) is not null", (snapshot,)).fetchone()[0]:
        return None
    table = qrel(snapshot)
    since = conn.execute(
        f"select max(run_month) from {table} where run_month < %s and seed = any(%s)", (run_month, seeds)
    ).fetchone()[0]
    if since is None:
        return None
    before = {
        (seed, key): row
        for seed, key, row in conn.execute(
            f"select seed, row_key, row_data from {table} where run_month = %s and seed = any(%s)", (since, seeds)
        ).fetchall()
    }
    after: dict = {}
    for seed in seeds:
        if conn.execute("select to_regclass(%s) is not null", (f"{schema}.{seed}",)).fetchone()[0]:
            after |= report.seed_rows(conn, seed, schema)
    changes = report.diff_rules(before, after)
    return {"since": since, "changes": changes} if changes else None


def _flagged_shares(conn, scores: str, qt: str, qf: str, run_month: str | None) -> dict[str, float]:
    where = " where run_month = %s" if run_month else ""
    rows = conn.execute(
        f"select {qt}, avg({qf}::int) from {suite_checks.qrel(scores)}{where} group by 1",
        (run_month,) if run_month else (),
    ).fetchall()
    return {t: float(share) for t, share in rows if t is not None and share is not None}


def rules_changed_notice(change: dict, before: dict[str, float], after: dict[str, float]) -> dict:
    """The notice of a rule change: which rows changed, and each type's flagged share before/after."""
    return {
        "kind": "rules_changed",
        "since": change["since"],
        "changes": change["changes"],
        "shares": [
            {"type_code": t, "before": before.get(t), "after": after.get(t)} for t in sorted(set(before) | set(after))
        ],
    }


# --------------------------------------------------------------------------- decisions


def publication_decision(results, registry: dict | None = None) -> dict:
    """Whether the month may publish, given every gate result of the run.

    ``results``: GateResults (or their dicts), or mappings of them. A failing source blocks
    unless its registry policy is ``skip`` (never for ``jumin``); a failed marts gate always
    blocks. Returns ``{publish, blocking: [...], skipped_sources: [...], summary: {...}}``.
    """
    from mimamori.ingest.registry import NEVER_SKIP, load_registry

    registry = registry if registry is not None else load_registry()
    flat = flatten(results)
    blocking, skipped_sources = set(), set()
    for r in flat:
        if r.success:
            continue
        policy = registry[r.source].on_failure if r.source in registry else "block"
        if policy == "skip" and r.source not in NEVER_SKIP:
            skipped_sources.add(r.source)
        else:
            blocking.add(r.source)
    return {
        "publish": not blocking,
        "blocking": sorted(blocking),
        "skipped_sources": sorted(skipped_sources),
        "summary": summary(flat),
    }


def flatten(results) -> list[GateResult]:
    """GateResults from a GateResult, a dict of them, a list of either, or their to_dict() forms."""
    out: list[GateResult] = []
    if results is None:
        return out
    if isinstance(results, GateResult) or (isinstance(results, dict) and "stage" in results and "source" in results):
        return [GateResult.from_dict(results)]
    items = results.values() if isinstance(results, dict) else results
    for item in items:
        out.extend(flatten(item))
    return out


def summary(results) -> dict:
    """{stage: {source: 'passed'|'failed'|'skipped'|'not_validated', failed: n}} — counts only."""
    out: dict[str, dict] = {}
    for r in flatten(results):
        status = "passed" if r.success and not r.skipped else "skipped" if r.success else "failed"
        if r.skipped and not r.success:
            status = r.reason or "not_validated"
        out.setdefault(r.stage, {})[r.source] = {"status": status, "failed": len(r.failed)}
    return out
