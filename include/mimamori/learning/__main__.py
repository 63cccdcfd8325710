"""``python -m mimamori.learning propose`` — a proposed rule from the town's own outcomes (or from a
pooled fit's ``weights.csv``), its what-if over the last published months, the guard's verdict.

Reads the published outcome history and the last months' judgements (``history.child_scores``,
``history.evaluation_children``) as the transformer; writes the proposal folder (0700) for the
coordinator and stores the what-if's aggregates (no ids) in ``history.rule_proposals`` for the
transparency report, whose counts go through mimamori.sdc there. Exit 0 with a proposal the guard
lets through, 2 when the guard refuses it (the folder is written either way, for review).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import pandas as pd

from mimamori.learning import fit, proposal, whatif
from mimamori.learning.rules import RuleSet

log = logging.getLogger("mimamori.learning")

PROPOSALS_DDL = """
create table if not exists history.rule_proposals (
    proposal_id bigint generated always as identity primary key,
    run_month text not null,
    source text not null,
    is_refused boolean not null,
    refusals jsonb not null,
    aggregates jsonb not null,
    created_at timestamptz not null default clock_timestamp()
)
"""


def months_from_warehouse(conn, months: list[str]):
    """MonthData (children, matched items) of published months, from history."""
    from mimamori.synth.conferences import MonthData

    out = []
    for m in months:
        cur = conn.execute(
            "select person_id, household_id, age, age_band, sex, reporting_area as area, adult_count as adults,"
            " is_already_supported from history.evaluation_children where run_month = %s",
            (m,),
        )
        children = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
        cur = conn.execute(
            "select person_id, unnest(string_to_array(matched_items, ' ')) as item_code from history.child_scores"
            " where run_month = %s and matched_items is not null",
            (m,),
        )
        matches = pd.DataFrame(cur.fetchall(), columns=["person_id", "item_code"])
        if not children.empty:
            out.append(MonthData(m, children, matches))
    return out


def history_from_warehouse(conn) -> pd.DataFrame:
    cur = conn.execute("select judged_run_month, outcome, age, matched_items from published.conference_outcome_history")
    df = pd.DataFrame(cur.fetchall(), columns=["judged_run_month", "outcome", "age", "matched_items"])
    df["items"] = df["matched_items"].map(lambda s: tuple((s or "").split()))
    return df


def load_weights(path: Path, rules: RuleSet) -> dict[tuple[str, str], int]:
    df = pd.read_csv(path)
    out = {}
    for r in df.itertuples():
        for item in str(r.items).split():
            out[(r.type_code, item)] = int(r.proposed_points)
    return out


def cmd_propose(args) -> int:
    from mimamori import db
    from mimamori.settings import get_settings

    settings = get_settings()
    current = RuleSet.load()
    bounds = whatif.load_guard()
    out = Path(args.out)
    with db.connect(settings, role="transformer") as conn:
        published = [
            r[0]
            for r in conn.execute(
                "select distinct run_month from history.evaluation_children order by run_month desc limit %s",
                (args.months,),
            ).fetchall()
        ]
        months = months_from_warehouse(conn, sorted(published))
        if not months:
            print("公開済みの月がありません（history.evaluation_children）", file=sys.stderr)
            return 1
        if args.weights:
            weights = load_weights(Path(args.weights), current)
            source = f"weights:{Path(args.weights).name}"
        else:
            history = history_from_warehouse(conn)
            fits = fit.fit(fit.margins_from_history(history, current, "town"), current)
            proposal.write_weights(out, current, fits, title="この町の会議の判定から")
            weights = fit.proposed_weights(fits)
            source = "town"
        proposed = whatif.choose_thresholds(current, weights, months, max_ratio=bounds.get("max_flagged_ratio", 1.1))
        result = whatif.what_if(current, proposed, months, min_group_children=int(bounds.get("min_group_children", 20)))
        refusals = whatif.guard(result, bounds)
        proposal.write_proposal(out, current, proposed, result, refusals)
        with conn.transaction():
            conn.execute(PROPOSALS_DDL)
            conn.execute(
                "insert into history.rule_proposals (run_month, source, is_refused, refusals, aggregates)"
                " values (%s, %s, %s, %s, %s)",
                (
                    result.months[-1],
                    source,
                    bool(refusals),
                    json.dumps(refusals, ensure_ascii=False),
                    json.dumps(result.aggregates(), ensure_ascii=False, default=int),
                ),
            )
    print(f"{out}: seed.diff, whatif.md (gained {len(result.gained)}, lost {len(result.lost)})")
    for r in refusals:
        print(f"却下：{r}")
    return 2 if refusals else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mimamori.learning", description="会議の判定からルールの提案をつくる（提案のみ）"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("propose", help="重みと基準点数の提案、what-if、ガード")
    p.add_argument("--out", required=True, help="提案を書くフォルダ（総括管理のみ）")
    p.add_argument("--months", type=int, default=6, help="what-if に使う公開済みの月数（既定 6）")
    p.add_argument("--weights", default=None, help="pool fit の weights.csv（なければこの町の判定から）")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return cmd_propose(args)


if __name__ == "__main__":
    sys.exit(main())
