"""Measure identity resolution against the synthetic town's ground truth.

    python -m mimamori.identity.evaluate --truth DIR/truth/2026-10/records.csv --month 2026-10

Reads ``intermediate.int_identity__links`` (built by ``dbt build`` for the month) and the
generator's truth (records.csv: source, file, row_number, true 宛名番号, noise codes; children.csv
beside it: twin and same-name-same-birth-date flags) and prints:

* precision, recall, F1 of person links (a link is a record with link_status 'linked' and a
  person_id; it is right when the person is the true one). Recall counts every record whose true
  person is on the month's spine; household-only rows (no true person) are left out;
* false merges among twins and same-name-same-birth-date pairs (a wrong link whose true or linked
  person is a twin or a member of such a pair);
* records carrying a correct 宛名番号 that are linked to that person (%);
* the review queue (records with link_status 'review', % of non-spine records).

Nothing personal is printed: counts and rates only.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path

from mimamori import texttable

TARGETS = {
    "precision": 0.995,
    "recall": 0.98,
    "false_merges_hard_pairs": 0,
    "correct_atena_linked_pct": 100.0,
    "review_queue_pct": 2.0,
}


def precision_recall_f1(true_positive: int, predicted: int, actual: int) -> tuple[float, float, float]:
    """Precision, recall and F1 of links against the truth (1.0 when there is nothing to get wrong)."""
    precision = true_positive / predicted if predicted else 1.0
    recall = true_positive / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


class LinkRates:
    """precision, recall and F1 of a record of links: `true_positive`, `truth_on_spine` and the
    number of links it predicted (the attribute named by `PREDICTED`)."""

    PREDICTED = "predicted_links"

    def _rates(self) -> tuple[float, float, float]:
        return precision_recall_f1(self.true_positive, getattr(self, self.PREDICTED), self.truth_on_spine)

    @property
    def precision(self) -> float:
        return self._rates()[0]

    @property
    def recall(self) -> float:
        return self._rates()[1]

    @property
    def f1(self) -> float:
        return self._rates()[2]


@dataclass
class Evaluation(LinkRates):
    records: int = 0
    predicted_links: int = 0
    true_positive: int = 0
    truth_on_spine: int = 0
    false_merges_hard_pairs: int = 0
    correct_atena_records: int = 0
    correct_atena_linked: int = 0
    review: int = 0
    unmatched: int = 0
    by_file: dict = field(default_factory=dict)

    @property
    def correct_atena_linked_pct(self) -> float:
        return 100.0 * self.correct_atena_linked / self.correct_atena_records if self.correct_atena_records else 100.0

    @property
    def review_queue_pct(self) -> float:
        return 100.0 * self.review / self.records if self.records else 0.0

    def failures(self) -> list[str]:
        out = []
        if self.precision < TARGETS["precision"]:
            out.append(f"precision {self.precision:.4f} < {TARGETS['precision']}")
        if self.recall < TARGETS["recall"]:
            out.append(f"recall {self.recall:.4f} < {TARGETS['recall']}")
        if self.false_merges_hard_pairs > 0:
            out.append(f"{self.false_merges_hard_pairs} false merge(s) among twins / same-name pairs")
        if self.correct_atena_linked_pct < 100.0:
            out.append(f"records with a correct 宛名番号 linked {self.correct_atena_linked_pct:.2f}% < 100%")
        if self.review_queue_pct > TARGETS["review_queue_pct"]:
            out.append(f"review queue {self.review_queue_pct:.2f}% > {TARGETS['review_queue_pct']}%")
        return out

    def table(self) -> str:
        rows = [
            ("non-spine records", f"{self.records}", ""),
            ("links made (linked, with a person)", f"{self.predicted_links}", ""),
            ("precision", f"{self.precision:.4f}", f">= {TARGETS['precision']}"),
            ("recall", f"{self.recall:.4f}", f">= {TARGETS['recall']}"),
            ("F1", f"{self.f1:.4f}", ""),
            ("false merges: twins / same-name-same-birth pairs", f"{self.false_merges_hard_pairs}", "0"),
            (
                "records with a correct 宛名番号 linked",
                f"{self.correct_atena_linked}/{self.correct_atena_records} ({self.correct_atena_linked_pct:.2f}%)",
                "100%",
            ),
            ("review queue", f"{self.review} ({self.review_queue_pct:.2f}%)", f"<= {TARGETS['review_queue_pct']}%"),
            ("unmatched", f"{self.unmatched}", ""),
        ]
        return texttable.render(("measure", "value", "target"), rows)

    def file_table(self) -> str:
        rows = []
        for file, c in sorted(self.by_file.items()):
            p = c["tp"] / c["links"] if c["links"] else 1.0
            r = c["tp"] / c["truth"] if c["truth"] else 1.0
            rows.append((file, str(c["records"]), str(c["links"]), f"{p:.4f}", f"{r:.4f}", str(c["review"])))
        return texttable.render(("file", "records", "links", "precision", "recall", "review"), rows)


def _read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def evaluate(conn, truth_records: Path, month: str) -> Evaluation:
    """Compare the links of `month` in the warehouse with the truth files."""
    truth = {(r["file"], int(r["row_number"])): r for r in _read_csv(truth_records) if r["source"] != "jumin"}
    children_path = truth_records.parent / "children.csv"
    hard: set[str] = set()
    if children_path.exists():
        for r in _read_csv(children_path):
            if r.get("twin") in ("1", "True", "true") or r.get("same_name_same_birth_pair") in ("1", "True", "true"):
                hard.add(r["atena_no"])
    spine = {
        row[0]
        for row in conn.execute(
            "select atena_no from staging.stg_jumin__residents where resident_since <= "
            "(to_date(%s, 'YYYY-MM') + interval '1 month' - interval '1 day')::date",
            (month,),
        )
    }
    links = conn.execute(
        "select source_file, source_row_number, claimed_atena_no, person_id, link_status "
        "from intermediate.int_identity__links"
    ).fetchall()
    ev = Evaluation()
    for source_file, row_number, claimed, person, status in links:
        t = truth.get((source_file, row_number))
        true_person = (t or {}).get("atena_no") or None
        ev.records += 1
        c = ev.by_file.setdefault(source_file, {"records": 0, "links": 0, "tp": 0, "truth": 0, "review": 0})
        c["records"] += 1
        if status == "review":
            ev.review += 1
            c["review"] += 1
        elif status == "unmatched":
            ev.unmatched += 1
        if true_person is None:
            continue  # a household-only row: no person to find
        on_spine = true_person in spine
        if on_spine:
            ev.truth_on_spine += 1
            c["truth"] += 1
        if status == "linked" and person:
            ev.predicted_links += 1
            c["links"] += 1
            if person == true_person:
                ev.true_positive += 1
                c["tp"] += 1
            elif true_person in hard or person in hard:
                ev.false_merges_hard_pairs += 1
        if claimed and claimed == true_person and on_spine:
            ev.correct_atena_records += 1
            if status == "linked" and person == true_person:
                ev.correct_atena_linked += 1
    return ev


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mimamori.identity.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--truth", type=Path, required=True, help="DIR/truth/<month>/records.csv")
    parser.add_argument("--month", required=True, metavar="YYYY-MM")
    parser.add_argument("--by-file", action="store_true", help="also print precision/recall per file")
    args = parser.parse_args(argv)

    from mimamori import db
    from mimamori.settings import get_settings

    with db.connect(get_settings(), role="transformer") as conn:
        ev = evaluate(conn, args.truth, args.month)
    print(ev.table())
    if args.by_file:
        print()
        print(ev.file_table())
    problems = ev.failures()
    for p in problems:
        print("target missed:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
