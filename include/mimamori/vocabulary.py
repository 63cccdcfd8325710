"""The project's vocabulary, read from the one place each fact lives.

Items, types, which items count for which type and the conference's outcomes are dbt seeds
(``dbt_project/seeds/rules/``: ``item_catalogue.csv``, ``types.csv``, ``type_items.csv``,
``conference_outcomes.csv``); departments are the source registry
(``include/sources/<source>.yaml``: ``department`` and its short ``label``). Python code — the case
screen, the transparency report, the synthetic town's reference evaluator, tests — takes its labels
and lists from here, never from a copy: a 38th item added to the catalogue seed appears on the
child page and in hand entry without a code change.

Every reader fails loudly (:class:`VocabularyError`, naming the file and line) when a seed is
missing, a column is absent or a row names an item or type that does not exist.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from mimamori.settings import REPO_ROOT

RULES_DIR = Path("dbt_project") / "seeds" / "rules"


class VocabularyError(ValueError):
    """A seed the vocabulary reads is missing or malformed; the message names the file and line."""


@dataclass(frozen=True)
class Item:
    code: str
    sort_order: int
    label: str
    level: str
    sources: tuple[str, ...]
    holder_department: str
    is_enabled: bool


@dataclass(frozen=True)
class TypeRule:
    code: str
    sort_order: int
    label: str
    min_age: int
    max_age: int
    threshold: int
    is_enabled: bool


@dataclass(frozen=True)
class Outcome:
    """A case-conference outcome (``conference_outcomes.csv``; its _rules__seeds.yml says what each
    flag means to whom)."""

    code: str
    sort_order: int
    label_en: str
    description: str
    is_needs_support: bool
    is_concern: bool
    is_followed_up: bool


@dataclass(frozen=True)
class TypeItem:
    type_code: str
    item_code: str
    weight: int
    group_key: str
    is_required: bool

    @property
    def group(self) -> str:
        """The group whose best item counts (an item without a group is its own)."""
        return self.group_key or self.item_code


def _rows(name: str, columns: tuple[str, ...], root: Path | None = None) -> list[tuple[int, dict[str, str]]]:
    path = (root or REPO_ROOT) / RULES_DIR / name
    if not path.is_file():
        raise VocabularyError(f"{path}: seed not found")
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise VocabularyError(f"{path}: missing column(s) {', '.join(missing)}")
        return [(i, row) for i, row in enumerate(reader, start=2)]


def _bool(value: str, where: str) -> bool:
    v = (value or "").strip().lower()
    if v not in ("true", "false"):
        raise VocabularyError(f"{where}: expected true or false, not {value!r}")
    return v == "true"


def _int(value: str, where: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise VocabularyError(f"{where}: expected a whole number, not {value!r}") from None


def _by_code(name: str, columns: tuple[str, ...], what: str, root: Path | None, build) -> dict:
    """The rows of seed ``name`` by their code (the first column named), each as ``build(code, row,
    where)``, in the seed's sort order; a code empty or listed twice is refused."""
    out: dict = {}
    for line, row in _rows(name, columns, root):
        where = f"{RULES_DIR / name}:{line}"
        code = row[columns[0]].strip()
        if not code or code in out:
            raise VocabularyError(f"{where}: {what} code empty or listed twice ({code!r})")
        out[code] = build(code, row, where)
    return dict(sorted(out.items(), key=lambda kv: (kv[1].sort_order, kv[0])))


@lru_cache(maxsize=4)
def items(root: Path | None = None) -> dict[str, Item]:
    """Every catalogue item (enabled or not), in the catalogue's sort order."""
    cols = ("item_code", "sort_order", "label_ja", "level", "sources", "holder_department", "is_enabled")
    return _by_code(
        "item_catalogue.csv",
        cols,
        "item",
        root,
        lambda code, row, where: Item(
            code=code,
            sort_order=_int(row["sort_order"], where),
            label=row["label_ja"].strip(),
            level=row["level"].strip(),
            sources=tuple(row["sources"].split()),
            holder_department=row["holder_department"].strip(),
            is_enabled=_bool(row["is_enabled"], where),
        ),
    )


@lru_cache(maxsize=4)
def types(root: Path | None = None) -> dict[str, TypeRule]:
    """Every type (enabled or not), in the seed's sort order."""
    cols = ("type_code", "sort_order", "label_ja", "min_age", "max_age", "threshold", "is_enabled")
    return _by_code(
        "types.csv",
        cols,
        "type",
        root,
        lambda code, row, where: TypeRule(
            code=code,
            sort_order=_int(row["sort_order"], where),
            label=row["label_ja"].strip(),
            min_age=_int(row["min_age"], where),
            max_age=_int(row["max_age"], where),
            threshold=_int(row["threshold"], where),
            is_enabled=_bool(row["is_enabled"], where),
        ),
    )


@lru_cache(maxsize=4)
def type_items(root: Path | None = None) -> tuple[TypeItem, ...]:
    """Which items count for which type (weight, no-double-count group, required)."""
    known_items, known_types = items(root), types(root)
    out = []
    name = "type_items.csv"
    for line, row in _rows(name, ("type_code", "item_code", "weight", "group_key", "is_required"), root):
        where = f"{RULES_DIR / name}:{line}"
        if row["type_code"] not in known_types:
            raise VocabularyError(f"{where}: type {row['type_code']!r} is not in types.csv")
        if row["item_code"] not in known_items:
            raise VocabularyError(f"{where}: item {row['item_code']!r} is not in item_catalogue.csv")
        out.append(
            TypeItem(
                type_code=row["type_code"],
                item_code=row["item_code"],
                weight=_int(row["weight"], where),
                group_key=(row["group_key"] or "").strip(),
                is_required=_bool(row["is_required"], where),
            )
        )
    return tuple(out)


@lru_cache(maxsize=4)
def outcomes(root: Path | None = None) -> dict[str, Outcome]:
    """The conference's outcomes in the seed's order; exactly one of them is "needs support"."""
    cols = ("outcome", "sort_order", "label_en", "description_ja", "is_needs_support", "is_concern", "is_followed_up")
    out = _by_code(
        "conference_outcomes.csv",
        cols,
        "outcome",
        root,
        lambda code, row, where: Outcome(
            code=code,
            sort_order=_int(row["sort_order"], where),
            label_en=row["label_en"].strip(),
            description=row["description_ja"].strip(),
            is_needs_support=_bool(row["is_needs_support"], where),
            is_concern=_bool(row["is_concern"], where),
            is_followed_up=_bool(row["is_followed_up"], where),
        ),
    )
    positive = [c for c, o in out.items() if o.is_needs_support]
    if len(positive) != 1:
        raise VocabularyError(
            f"{RULES_DIR / 'conference_outcomes.csv'}: exactly one outcome must be is_needs_support, not {positive}"
        )
    return out


def outcome_codes() -> tuple[str, ...]:
    """The outcomes' codes in the seed's order."""
    return tuple(outcomes())


def needs_support_outcome() -> str:
    """The one outcome that means "needs support" (the evaluation's positive class)."""
    return next(c for c, o in outcomes().items() if o.is_needs_support)


def concern_outcomes() -> tuple[str, ...]:
    """Outcomes after which the conference keeps the child in view (review date; never a candidate again)."""
    return tuple(c for c, o in outcomes().items() if o.is_concern)


def item_labels(*, enabled_only: bool = True) -> dict[str, str]:
    """item code → Japanese label, in catalogue order."""
    return {c: i.label for c, i in items().items() if i.is_enabled or not enabled_only}


def type_labels() -> dict[str, str]:
    """type code → Japanese label, in the seed's order (disabled types keep their label)."""
    return {c: t.label for c, t in types().items()}


def department_labels(*, short: bool = True) -> dict[str, str]:
    """source → the department's name (its short ``label`` or the full ``department``)."""
    from mimamori.ingest.registry import load_registry

    return {name: (src.display_label if short else src.department) for name, src in load_registry().items()}


def item_sort_key(code: str) -> tuple[int, str]:
    """Catalogue order; a code not in the catalogue sorts last."""
    item = items().get(code)
    return (item.sort_order if item else 1_000_000, code)
