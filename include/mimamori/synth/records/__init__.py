"""Clean (typed, noise-free) records of every department for one month.

Each builder returns rows as dicts keyed by the contract's literal headers (except 抽出日, added by
the writer) plus the true person (``atena``) — the truth the noise step and the reference evaluator
start from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class Row:
    values: dict
    atena: str | None  # the true person ('' / None for a household-only row)
    setai: str | None = None
    noise: list = field(default_factory=list)


def residents(town, as_of: date):
    """(household, person) for each person present on `as_of`, in household and member order."""
    for hh in town.households.values():
        for a in hh.members:
            p = town.persons[a]
            if p.present(as_of):
                yield hh, p


def build_month(town, month: str, as_of: date) -> dict[tuple[str, str], list[Row]]:
    from . import fukushi, gakko, jumin, kodomo_katei, kodomo_shien

    out: dict[tuple[str, str], list[Row]] = {}
    for module in (jumin, kodomo_shien, kodomo_katei, fukushi, gakko):
        for file, rows in module.build(town, month, as_of).items():
            out[(module.SOURCE, file)] = rows
    return out
