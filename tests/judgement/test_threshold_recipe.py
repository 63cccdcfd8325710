"""The threshold recipe of docs/manual-data-engineer.md §3.2, followed to the next month's publication.

One hand-edited file: a type's ``threshold`` in a temporary copy's ``seeds/rules/types.csv``.
The session's judged town has 2026-10 published (``published_town``); its rules are snapshotted
as the report task does for every published month (``history.rules_snapshot``). Then the next
month runs with the copy: 2026-11's extracts are loaded, the copy's ``dbt build`` (its seeds, so
the new threshold, every model, data test and unit test) builds 2026-11, the real marts gate
(quality.validate_marts, thresholds.yml as shipped) checks it, the publication decision is taken
from its result, the month is published, and the transparency report and the IT summary are
made. The gate must recognise the rule change since the last published snapshot: no flagged-share
band check, a ``rules_changed`` notice naming the changed row and the shares before/after —
although the share moved beyond the band: the same gate pointed at no rules snapshot blocks the
month — and the month must publish, with the change in the report and the mail.

Afterwards the shared judged town is put back as the other suites expect it: the checkout's seeds,
2026-10 rebuilt and published again, and every row the run added for 2026-11 to the history
(and the 2026-10 rules snapshot, when this test made it) removed.
"""

from __future__ import annotations

import copy as copy_module
import dataclasses
from dataclasses import dataclass

import pytest
from recipe_steps import copy_checkout, csv_rows, dbt_in_copy, hand_edited, in_copy, seed_path, write_csv
from town_fixtures import MONTH, NEXT_MONTH, PSEUDO_KEY


@dataclass
class NextMonth:
    type_code: str
    before: int
    after: int
    edited: list[str]
    built: bool
    marts: object  # the marts gate's GateResult
    decision: dict
    published: str | None  # the latest published month afterwards
    report_html: str
    it_body: str
    band: dict
    unrecognised: object  # the same gate had it not known the last published rules


def _change_threshold(root) -> tuple[str, int, int]:
    """The recipe's one edit: the first enabled type with a threshold above 1 gets one point less."""
    path = seed_path(root, "types.csv")
    rows = csv_rows(path)
    row = next(r for r in rows if r["is_enabled"] == "true" and int(r["threshold"]) > 1)
    before = int(row["threshold"])
    row["threshold"] = str(before - 1)
    write_csv(path, rows)
    return row["type_code"], before, before - 1


def _history_tables(conn) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "select table_name from information_schema.columns where table_schema = 'history'"
            " and column_name = 'run_month' order by 1"
        ).fetchall()
    ]


def _restore(settings, snapshot_existed: bool) -> None:
    """The judged town as town_fixtures left it: the checkout's seeds, 2026-10 built and published."""
    from mimamori import dbt, pipeline, publish
    from mimamori.stack import pg

    keyed = dataclasses.replace(settings, pseudo_key=PSEUDO_KEY)
    lines: list[str] = []
    assert dbt.run(keyed, ["seed", "--select", "types"], run_month=MONTH, log=lines.append).ok, lines[-20:]
    assert dbt.run(keyed, ["run"], run_month=MONTH, log=lines.append).ok, lines[-20:]
    tables, pseudo = pipeline.published_relations(settings)
    publish.publish(
        settings, MONTH, tables, pseudo, gate_summary={"marts": {"judgement": {"status": "passed", "failed": 0}}}
    )
    with pg.connect(settings, autocommit=True) as conn:
        for table in _history_tables(conn):
            conn.execute(f'delete from history."{table}" where run_month = %s', (NEXT_MONTH,))
        if not snapshot_existed:
            conn.execute("delete from history.rules_snapshot where run_month = %s", (MONTH,))
        conn.execute("delete from published.publication where run_month = %s", (NEXT_MONTH,))


@pytest.fixture(scope="module")
def next_month(published_town, tmp_path_factory):
    from mimamori import alerts, pipeline, publish, quality, report
    from mimamori.ingest.load import ingest_month
    from mimamori.ingest.registry import load_registry
    from mimamori.stack import pg

    settings = published_town.settings
    root = copy_checkout(tmp_path_factory.mktemp("threshold_recipe"))
    type_code, before, after = _change_threshold(root)
    copy = in_copy(settings, root, pseudo_key=PSEUDO_KEY)
    with pg.connect(settings, autocommit=True) as conn:
        snapshot_existed = bool(
            conn.execute("select to_regclass('history.rules_snapshot') is not null").fetchone()[0]
            and conn.execute("select from history.rules_snapshot where run_month = %s", (MONTH,)).fetchone()
        )
    try:
        # the month just published: its rules are what the report task snapshots (report.build_report)
        with pg.connect(settings, role="transformer") as conn, conn.transaction():
            report.snapshot_rules(conn, MONTH)
        loaded = ingest_month(
            NEXT_MONTH,
            published_town.town_dir / "inbox",
            settings.dsn(role="loader"),
            published_town.town_dir / "quarantine",
            log=lambda _line: None,
        )
        assert all(r.ok for r in loaded.values()), {s: r.ok for s, r in loaded.items()}
        built, lines = dbt_in_copy(settings, root, ["build"], NEXT_MONTH, pseudo_key=PSEUDO_KEY)
        assert built, "\n".join(lines[-30:])
        thresholds = quality.load_thresholds(settings)
        blind = copy_module.deepcopy(thresholds)
        blind["marts"]["rules"] = {"snapshot": "history.no_rules_snapshot"}
        unrecognised = quality.validate_marts(copy, NEXT_MONTH, thresholds=blind)["marts"]
        marts = quality.validate_marts(copy, NEXT_MONTH)["marts"]
        decision = quality.publication_decision([marts], load_registry())
        if decision["publish"]:
            tables, pseudo = pipeline.published_relations(copy)
            publish.publish(copy, NEXT_MONTH, tables, pseudo, gate_summary=quality.summary([marts]))
        published = (publish.current_publication(settings) or {}).get("run_month")
        html, _ = report.build_report(copy, NEXT_MONTH, pdf=False)
        _, _, it_body = alerts.it_summary(copy, NEXT_MONTH, [marts], decision=decision)
        yield NextMonth(
            type_code,
            before,
            after,
            hand_edited(root),
            built,
            marts,
            decision,
            published,
            html.read_text(encoding="utf-8"),
            it_body,
            thresholds["marts"]["flagged_share_band"],
            unrecognised,
        )
    finally:
        _restore(settings, snapshot_existed)


def test_the_recipe_edits_one_file(next_month):
    assert next_month.edited == ["dbt_project/seeds/rules/types.csv"]
    assert next_month.after == next_month.before - 1


def test_the_gate_reports_the_rule_change_instead_of_the_share_band(next_month):
    marts = next_month.marts
    assert marts.success and not marts.failed
    assert not any(c.startswith("flagged_share") for p in marts.pages for c in _check_ids(p))
    [notice] = [n for n in marts.notices if n["kind"] == "rules_changed"]
    assert notice["since"] == MONTH
    assert [(c["key"], c["change"]) for c in notice["changes"]] == [(next_month.type_code, "変更")]
    assert f"{next_month.before} → {next_month.after}" in notice["changes"][0]["detail"]
    # the share moved beyond the band that blocks a month whose rules stayed the same
    share = {s["type_code"]: (s["before"], s["after"]) for s in notice["shares"]}[next_month.type_code]
    before, after = share
    band = next_month.band
    assert after - before > max(band["relative"] * before, band["absolute_slack"]), share


def test_without_the_rules_snapshot_the_same_month_would_be_blocked(next_month):
    """What the test guards against: the gate not knowing the rules changed holds the month back."""
    from mimamori import quality
    from mimamori.ingest.registry import load_registry

    blocked = next_month.unrecognised
    assert not blocked.success and blocked.notices == []
    assert f"flagged_share:{next_month.type_code}" in {i["check_id"] for i in blocked.failed}
    assert not quality.publication_decision([blocked], load_registry())["publish"]


def test_the_month_publishes(next_month):
    assert next_month.decision["publish"] and next_month.decision["blocking"] == []
    assert next_month.published == NEXT_MONTH


def test_the_change_is_reported_to_it_and_in_the_transparency_report(next_month):
    assert "ルールが変わりました（公開は止めません）" in next_month.it_body
    assert f"{next_month.before} → {next_month.after}" in next_month.it_body
    assert f"{next_month.before} → {next_month.after}" in next_month.report_html


def _check_ids(page: dict) -> list[str]:
    return [c.get("check_id", "") for c in page.get("checks", [])]
