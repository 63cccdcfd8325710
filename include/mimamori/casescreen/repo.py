"""What the case screen reads and writes, in one place.

Reads (schema ``P`` = MIMAMORI_CASESCREEN_SCHEMA, default ``published``; ``H`` = history):

=============================  ==========================================================================
relation                       columns used (others are ignored)
=============================  ==========================================================================
P.publication                  run_month (the published month; newest ``published_at`` wins)  [optional]
P.residents                    person_id, household_id, name, name_kana, sex, relationship, address,
                               birth_date, has_dv_protection (bool or 有/無) — the run month's spine
P.children                     person_id, age, age_band                                        [optional]
P.child_item_matches           person_id, item_code, status (true/false/unknown), evidence_raw_table,
                               evidence_record_id, evidence_date, hand_entry_origin (e.g. 紙台帳)
P.child_type_scores            person_id, type_code, score, threshold, is_flagged
P.child_scores                 person_id, total_points
P.household_candidates         household_id, household_rank, is_proposed
P.follow_ups                   person_id, last_outcome, next_review_date
P.child_affiliations           person_id, affiliation_type ('学校' = this month's 学齢簿; 保育所 …),
                               affiliation_name, grade
P.identity_review_records      record_id, record_key, raw_table, source_file, source_row_number,
                               link_status (review/unmatched), decision, match_score, match_reason,
                               record_* (as delivered), name_norm, kana_norm, rule_* (thresholds)
P.identity_review_candidates   record_id, person_id, candidate_rank, comparison, level, label_ja,
                               match_weight, match_score, candidate_name_norm, candidate_kana_norm
H.child_type_scores            run_month, person_id, type_code, score, threshold, is_flagged   [optional]
H.child_scores                 run_month, person_id, total_points                              [optional]
=============================  ==========================================================================

Columns are read by the names the marts publish (dbt_project/models/marts); a column the
audience's login may not read is absent and read as null (``_col``).
Writes (schema ``casework``): see :mod:`mimamori.casescreen.schema`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from mimamori import access
from mimamori.casescreen.config import CaseScreenConfig
from mimamori.casescreen.vocab import ITEMS, SOURCE_LABELS, STATUS_LABELS, STATUS_MARKS, TYPE_LABELS, item_sort_key

_COLUMNS_TTL = 30.0
_columns_cache: dict[tuple[str, str, str], tuple[float, frozenset[str] | None]] = {}


def raw_table_files(root) -> dict[str, str]:
    """raw table → the department's file name (docs/contract/extracts.csv), for showing a source."""
    import csv

    path = root / "docs" / "contract" / "extracts.csv"
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return {row["raw_table"]: row["file"] for row in csv.DictReader(handle)}
    except (OSError, KeyError):
        return {}


def source_label(source: Any, files: dict[str, str]) -> str:
    """'fukushi__public_assistance' → '福祉班 生活保護.csv'; 'fukushi' → '福祉班'."""
    text = str(source or "")
    if not text:
        return ""
    dept = text.split("__", 1)[0]
    label = SOURCE_LABELS.get(dept, dept)
    return f"{label} {files[text]}" if text in files else label


def record_label(source_file: Any, source_row: Any, record_id: Any, files: dict[str, str] | None = None) -> str:
    """A record as its data owner finds it: the delivered file and its data row ('生活保護.csv 19行目').
    Without them, the record id is read the same way (dbt macro ``record_id``): ``<raw table>:<row>``
    through the contract's file names (``files``), and a mapped town's ``<raw table>:<delivered
    file>:<row>`` as the delivered file it names; an id of another form is shown as it is."""
    if source_file and source_row:
        return f"{source_file} {source_row}行目"
    table, _, rest = str(record_id or "").partition(":")
    delivered, _, row = rest.rpartition(":")
    if delivered and row.isdigit():
        return f"{delivered} {row}行目"
    if files and table in files and rest.isdigit():
        return f"{files[table]} {rest}行目"
    return str(record_id or "")


def _col(columns: frozenset[str] | None, name: str) -> str | None:
    """``name`` when this login may read that column of the relation (column privileges), else None."""
    return name if columns and name in columns else None


def is_true(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "t", "1", "有", "yes", "y")


def status_of(row: dict[str, Any], status_col: str | None) -> str:
    value = row.get(status_col) if status_col else None
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip().lower()
    return {"true": "true", "t": "true", "matched": "true", "false": "false", "f": "false"}.get(text, "unknown")


@dataclass
class Repo:
    """Reads and writes of one request, on the connection of the staff member's audience.

    ``audience`` (from the audience declaration) only shapes what the screen asks for: what rows and
    columns come back is decided by PostgreSQL (grants, column privileges, row-level security of
    the audience's login), so a relation or column the audience may not read is simply absent
    (:meth:`columns`), never an error page.
    """

    config: CaseScreenConfig
    conn: psycopg.Connection
    audience: access.Audience | None = None

    # --- relations --------------------------------------------------------------------------------

    def columns(self, schema: str, table: str) -> frozenset[str] | None:
        """Columns of schema.table this login may read, if it may read the table; else None.

        information_schema lists only the columns the current login holds a privilege on, so a
        column hidden from the audience is not there (cached briefly, per login)."""
        key = (self.audience.code if self.audience else "", schema, table)
        hit = _columns_cache.get(key)
        if hit and time.monotonic() - hit[0] < _COLUMNS_TTL:
            return hit[1]
        rows = self.conn.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
            (schema, table),
        ).fetchall()
        cols = frozenset(r[0] for r in rows) if rows else None
        if cols is not None:
            readable = self.conn.execute(
                "select has_any_column_privilege(format('%%I.%%I', %s::text, %s::text), 'select')", (schema, table)
            ).fetchone()[0]
            cols = cols if readable else None
        _columns_cache[key] = (time.monotonic(), cols)
        return cols

    def pub(self, table: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.config.published_schema), sql.Identifier(table))

    def cw(self, table: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.config.casework_schema), sql.Identifier(table))

    def _rows(self, query, params=()) -> list[dict[str, Any]]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query, params)
            return cur.fetchall()

    def _one(self, query, params=()) -> dict[str, Any] | None:
        rows = self._rows(query, params)
        return rows[0] if rows else None

    # --- the month ---------------------------------------------------------------------------------

    def current_month(self) -> str | None:
        P = self.config.published_schema
        cols = self.columns(P, "publication")
        if cols and "run_month" in cols:
            order = sql.SQL(" order by published_at desc nulls last") if "published_at" in cols else sql.SQL("")
            row = self._one(
                sql.SQL("select run_month::text as m from {}").format(self.pub("publication"))
                + order
                + sql.SQL(" limit 1")
            )
            if row and row["m"]:
                return row["m"][:7]
        for table in ("child_type_scores", "child_scores", "residents"):
            cols = self.columns(P, table)
            if cols and "run_month" in cols:
                row = self._one(sql.SQL("select max(run_month)::text as m from {}").format(self.pub(table)))
                if row and row["m"]:
                    return row["m"][:7]
        return None

    # --- catalogue ---------------------------------------------------------------------------------

    def visible_items(self) -> frozenset[str]:
        """Items of the departments this audience may view (audience_departments.csv)."""
        if self.audience is None:
            return frozenset(ITEMS)
        return access.declaration().visible_items(self.audience.code)

    def editable_items(self) -> frozenset[str]:
        """Items this audience may enter by hand (departments it may edit)."""
        if self.audience is None:
            return frozenset(ITEMS)
        return access.declaration().editable_items(self.audience.code)

    def item_labels(self) -> dict[str, str]:
        """Labels of the items this audience may see, from the catalogue seed (mimamori.vocabulary)."""
        visible = self.visible_items()
        return {code: label for code, label in ITEMS.items() if code in visible}

    # --- people ------------------------------------------------------------------------------------

    def person(self, person_id: str) -> dict[str, Any] | None:
        """The resident with address masking decided: ``address`` is None when hidden."""
        P = self.config.published_schema
        if not self.columns(P, "residents"):
            return None
        row = self._one(
            sql.SQL(
                "select r.person_id::text, r.household_id::text, r.name, r.name_kana, r.sex::text, "
                "r.relationship, r.birth_date from {res} r where r.person_id::text = %s"
            ).format(res=self.pub("residents")),
            (person_id,),
        )
        if row is None:
            return None
        row["address"], row["address_state"] = self.address(person_id)
        ccols = self.columns(P, "children")
        if ccols and "age" in ccols:
            extra = self._one(
                sql.SQL("select age, {} from {} where person_id::text = %s").format(
                    sql.SQL("age_band::text") if "age_band" in ccols else sql.SQL("null::text as age_band"),
                    self.pub("children"),
                ),
                (person_id,),
            )
            row.update(extra or {"age": None, "age_band": None})
            row["in_scope"] = extra is not None
        else:
            row.update({"age": None, "age_band": None, "in_scope": True})
        return row

    def address(self, person_id: str) -> tuple[str | None, str]:
        """(address, state) through ``published.resident_addresses``: state ``shown``, ``withheld``
        (someone under 支援措置 in the household or at the address: the view masks it) or
        ``not_permitted`` (the audience has no addresses: only the case-screen logins of audiences
        with ``reads_addresses`` may read the view, and no other way to an address exists)."""
        if not self.columns(self.config.published_schema, access.ADDRESS_VIEW):
            return None, "not_permitted"
        row = self._one(
            sql.SQL("select address, is_address_withheld from {} where person_id::text = %s").format(
                self.pub(access.ADDRESS_VIEW)
            ),
            (person_id,),
        )
        if row is None or row["is_address_withheld"] or row["address"] is None:
            return None, "withheld"
        return row["address"], "shown"

    def household(self, household_id: str | None) -> list[dict[str, Any]]:
        if self.audience is not None and not self.audience.sees_household:
            return []
        if not household_id or not self.columns(self.config.published_schema, "residents"):
            return []
        rows = self._rows(
            sql.SQL(
                "select r.person_id::text, r.name, r.name_kana, r.sex::text, r.relationship, r.birth_date "
                "from {res} r where r.household_id::text = %s order by r.birth_date, r.person_id"
            ).format(res=self.pub("residents")),
            (household_id,),
        )
        return rows

    def affiliations(self, person_id: str) -> list[dict[str, Any]]:
        cols = self.columns(self.config.published_schema, "child_affiliations")
        if not cols:
            return []
        kind, name, grade = _col(cols, "affiliation_type"), _col(cols, "affiliation_name"), _col(cols, "grade")
        return self._rows(
            sql.SQL("select {}::text as kind, {}::text as name, {} as grade from {} where person_id::text = %s").format(
                sql.Identifier(kind) if kind else sql.SQL("null"),
                sql.Identifier(name) if name else sql.SQL("null"),
                sql.Identifier(grade) if grade else sql.SQL("null::int"),
                self.pub("child_affiliations"),
            ),
            (person_id,),
        )

    def on_school_register(self, person_id: str) -> bool:
        """Is the child on this month's 学齢簿 (an affiliation of type 学校)? Unknown → False."""
        cols = self.columns(self.config.published_schema, "child_affiliations")
        kind = _col(cols, "affiliation_type")
        if not kind:
            return False
        row = self._one(
            sql.SQL("select exists (select 1 from {} where person_id::text = %s and {}::text = '学校') as ok").format(
                self.pub("child_affiliations"), sql.Identifier(kind)
            ),
            (person_id,),
        )
        return bool(row and row["ok"])

    def school_register_ids(self) -> set[str]:
        cols = self.columns(self.config.published_schema, "child_affiliations")
        kind = _col(cols, "affiliation_type")
        if not kind:
            return set()
        rows = self._rows(
            sql.SQL("select distinct person_id::text as p from {} where {}::text = '学校'").format(
                self.pub("child_affiliations"), sql.Identifier(kind)
            )
        )
        return {r["p"] for r in rows}

    # --- the judgement -----------------------------------------------------------------------------

    def item_matches(self, person_id: str) -> list[dict[str, Any]]:
        """All 37 items for the child: status, source, record, date, origin; hand entries shown."""
        labels = self.item_labels()
        cols = self.columns(self.config.published_schema, "child_item_matches")
        found: dict[str, dict[str, Any]] = {}
        if cols:
            rows = self._rows(
                sql.SQL("select * from {} where person_id::text = %s").format(self.pub("child_item_matches")),
                (person_id,),
            )
            for row in rows:
                code = str(row.get("item_code"))
                found[code] = {
                    "status": status_of(row, "status"),
                    "source": row.get("evidence_raw_table"),
                    "record_id": row.get("evidence_record_id"),
                    "date": row.get("evidence_date"),
                    "origin": row.get("hand_entry_origin"),
                    "detail": row.get("evidence_detail"),
                    "hand_as_of": row.get("hand_entry_as_of_date"),
                    "source_file": row.get("evidence_source_file"),
                    "source_row": row.get("evidence_source_row"),
                    # a data correction recorded for the item (docs/governance.md): shown with the item
                    "correction": (row.get("correction_reason") or "訂正あり") if row.get("has_correction") else None,
                }
        files = raw_table_files(self.config.settings.root)
        items = []
        for code in sorted(labels, key=item_sort_key):
            match = found.get(
                code,
                {"status": "unknown", "source": None, "record_id": None, "date": None, "origin": None, "detail": None},
            )
            items.append(
                {
                    "code": code,
                    "label": labels[code],
                    **match,
                    "status_label": STATUS_LABELS[match["status"]],
                    "status_mark": STATUS_MARKS[match["status"]],
                    "record_label": record_label(
                        match.get("source_file"), match.get("source_row"), match["record_id"], files
                    ),
                    # a hand entry in force wins over the sources: say so, with its origin (e.g. 手入力（紙台帳）)
                    "source_label": "手入力" if match.get("origin") else source_label(match["source"], files),
                }
            )
        return items

    def type_verdicts(self, person_id: str) -> list[dict[str, Any]]:
        """The verdict per type in words, as the audience may read it (child_type_verdicts: row-level
        security gives each audience its own wording), with the items that count for each type
        (child_type_items: only items of departments the audience may view). [] when not published."""
        P = self.config.published_schema
        if not self.columns(P, "child_type_verdicts"):
            return []
        verdicts = self._rows(
            sql.SQL(
                "select type_code, type_label_ja as type_label, verdict_code, verdict_label_ja as verdict_label, "
                "verdict_ja, score, threshold, is_flagged from {} where person_id = %s order by type_sort_order"
            ).format(self.pub("child_type_verdicts")),
            (person_id,),
        )
        items: dict[str, list[dict[str, Any]]] = {}
        if self.columns(P, "child_type_items"):
            for row in self._rows(
                sql.SQL(
                    "select type_code, item_code, item_label_ja as label, status, points, is_required, "
                    "evidence_source_file, evidence_source_row, evidence_record_id, evidence_date, hand_entry_origin "
                    "from {} where person_id = %s order by type_sort_order, item_sort_order"
                ).format(self.pub("child_type_items")),
                (person_id,),
            ):
                row["status_label"] = STATUS_LABELS.get(row["status"], row["status"])
                row["status_mark"] = STATUS_MARKS.get(row["status"], "")
                row["record_label"] = record_label(
                    row["evidence_source_file"], row["evidence_source_row"], row["evidence_record_id"]
                )
                items.setdefault(row["type_code"], []).append(row)
        for verdict in verdicts:
            verdict["type_items"] = items.get(verdict["type_code"], [])
        return verdicts

    def type_scores(self, person_id: str) -> list[dict[str, Any]]:
        cols = self.columns(self.config.published_schema, "child_type_scores")
        if not cols:
            return []
        return self._type_rows(self.pub("child_type_scores"), cols, person_id)

    def _type_rows(self, relation, cols, person_id, with_month: bool = False) -> list[dict[str, Any]]:
        t, s, th, f = (_col(cols, k) for k in ("type_code", "score", "threshold", "is_flagged"))
        month = sql.SQL("run_month::text as run_month, ") if with_month and "run_month" in cols else sql.SQL("")
        rows = self._rows(
            sql.SQL(
                "select {m}{t}::text as type_code, {s} as score, {th} as threshold, {f} as is_flagged from {rel} "
                "where person_id::text = %s"
            ).format(
                m=month,
                t=sql.Identifier(t),
                s=sql.Identifier(s) if s else sql.SQL("null::numeric"),
                th=sql.Identifier(th) if th else sql.SQL("null::numeric"),
                f=sql.Identifier(f) if f else sql.SQL("null::boolean"),
                rel=relation,
            ),
            (person_id,),
        )
        for row in rows:
            row["type_label"] = TYPE_LABELS.get(row["type_code"], row["type_code"])
            row["is_flagged"] = bool(row["is_flagged"])
        return rows

    def total_points(self, person_id: str) -> Any:
        cols = self.columns(self.config.published_schema, "child_scores")
        col = _col(cols, "total_points")
        if not col:
            return None
        row = self._one(
            sql.SQL("select {} as p from {} where person_id::text = %s").format(
                sql.Identifier(col), self.pub("child_scores")
            ),
            (person_id,),
        )
        return row["p"] if row else None

    def score_history(self, person_id: str) -> dict[str, Any]:
        """{'months': [...], 'types': {type_label: {month: score}}, 'total': {month: points}, 'readable': bool}."""
        H = self.config.history_schema
        out: dict[str, Any] = {"months": [], "types": {}, "flags": {}, "total": {}, "readable": False}
        tcols = self.columns(H, "child_type_scores")
        hist = sql.SQL("{}.{}").format(sql.Identifier(H), sql.Identifier("child_type_scores"))
        months: set[str] = set()
        if tcols and "run_month" in tcols:
            out["readable"] = True
            for row in self._type_rows(hist, tcols, person_id, with_month=True):
                m = row["run_month"][:7]
                months.add(m)
                out["types"].setdefault(row["type_label"], {})[m] = row["score"]
                if row["is_flagged"]:
                    out["flags"].setdefault(row["type_label"], set()).add(m)
        ccols = self.columns(H, "child_scores")
        col = _col(ccols, "total_points")
        if col and "run_month" in ccols:
            out["readable"] = True
            for row in self._rows(
                sql.SQL("select run_month::text as m, {} as p from {}.{} where person_id::text = %s").format(
                    sql.Identifier(col), sql.Identifier(H), sql.Identifier("child_scores")
                ),
                (person_id,),
            ):
                months.add(row["m"][:7])
                out["total"][row["m"][:7]] = row["p"]
        out["months"] = sorted(months)[-12:]
        return out

    def candidates(self, allowed: set[str] | None = None) -> list[dict[str, Any]]:
        """This month's ranked candidate households with their flagged children.

        ``allowed``: person ids the user may see (school board); None means all."""
        P = self.config.published_schema
        hcols = self.columns(P, "household_candidates")
        if not self.columns(P, "residents"):
            return []
        if not hcols:
            return self._candidate_children()
        rank_c, prop_c = _col(hcols, "household_rank"), _col(hcols, "is_proposed")
        per_child = "person_id" in hcols
        ids_col = "person_ids" in hcols
        rows = self._rows(
            sql.SQL(
                "select household_id::text as household_id, {r} as household_rank, {p} as is_proposed{pc}{ids} from {rel}"
            ).format(
                r=sql.Identifier(rank_c) if rank_c else sql.SQL("null::int"),
                p=sql.Identifier(prop_c) if prop_c else sql.SQL("true"),
                pc=sql.SQL(", person_id::text as person_id") if per_child else sql.SQL(""),
                ids=sql.SQL(", string_to_array(person_ids::text, ' ') as person_ids") if ids_col else sql.SQL(""),
                rel=self.pub("household_candidates"),
            )
        )
        households: dict[str, dict[str, Any]] = {}
        for row in rows:
            hh = households.setdefault(
                row["household_id"],
                {
                    "household_id": row["household_id"],
                    "rank": row["household_rank"],
                    "is_proposed": bool(row["is_proposed"]),
                    "children": [],
                    "person_ids": set(),
                },
            )
            if per_child and row.get("person_id"):
                hh["person_ids"].add(row["person_id"])
            hh["person_ids"].update(row.get("person_ids") or [])
        if not households:
            return []
        flagged = self._flagged_children(list(households))
        for child in flagged:
            hh = households.get(child["household_id"])
            if hh is None or (hh["person_ids"] and child["person_id"] not in hh["person_ids"]):
                continue
            if allowed is not None and child["person_id"] not in allowed:
                continue
            hh["children"].append(child)
        out = [h for h in households.values() if h["children"] or allowed is None]
        out.sort(key=lambda h: (h["rank"] is None, h["rank"] or 0, h["household_id"]))
        return out

    def _candidate_children(self) -> list[dict[str, Any]]:
        """For an audience that may not read households (the school board): its own children among
        this month's candidates, each as a group of its own, unranked."""
        if not self.columns(self.config.published_schema, "candidate_children"):
            return []
        rows = self._rows(
            sql.SQL("select distinct household_id::text as household_id from {} where is_flagged order by 1").format(
                self.pub("candidate_children")
            )
        )
        ids = [r["household_id"] for r in rows]
        groups: dict[str, dict[str, Any]] = {
            h: {"household_id": h, "rank": None, "is_proposed": False, "children": [], "person_ids": set()} for h in ids
        }
        for child in self._flagged_children(ids):
            groups[child["household_id"]]["children"].append(child)
        return [g for g in groups.values() if g["children"]]

    def _flagged_children(self, household_ids: list[str]) -> list[dict[str, Any]]:
        P = self.config.published_schema
        tcols = self.columns(P, "child_type_scores")
        if not tcols:
            return []
        t, f = _col(tcols, "type_code"), _col(tcols, "is_flagged")
        scols = self.columns(P, "child_scores") or frozenset()
        pts = _col(scols, "total_points")

        def score_col(name: str) -> sql.Composable:  # for the candidate list's filters
            return sql.SQL("max(s.{})::text").format(sql.Identifier(name)) if pts and name in scols else sql.SQL("null")

        rows = self._rows(
            sql.SQL(
                "select r.person_id::text as person_id, r.household_id::text as household_id, r.name, r.birth_date, "
                "array_agg(distinct t.{t}::text) filter (where t.{f}) as types, max({pts}) as total_points, "
                "{band} as age_band, {area} as area "
                "from {res} r join {ts} t on t.person_id::text = r.person_id::text {join_s} "
                "where r.household_id::text = any(%s) group by 1, 2, 3, 4 "
                "having bool_or(t.{f}) order by 2, 4"
            ).format(
                t=sql.Identifier(t),
                f=sql.Identifier(f),
                band=score_col("age_band"),
                area=score_col("area"),
                pts=sql.SQL("s.{}").format(sql.Identifier(pts)) if pts else sql.SQL("null::numeric"),
                res=self.pub("residents"),
                ts=self.pub("child_type_scores"),
                join_s=sql.SQL("left join {} s on s.person_id::text = r.person_id::text").format(
                    self.pub("child_scores")
                )
                if pts
                else sql.SQL(""),
            ),
            (household_ids,),
        )
        for row in rows:
            row["type_labels"] = [TYPE_LABELS.get(x, x) for x in sorted(row["types"] or [])]
        return rows

    def follow_ups(self, allowed: set[str] | None = None) -> list[dict[str, Any]]:
        """Children under 調査継続/経過観察 (and 要支援 past review): outcome, month judged, change."""
        P = self.config.published_schema
        cols = self.columns(P, "follow_ups")
        if not cols or not self.columns(P, "residents"):
            return []

        def col(logical: str, cast: str = "") -> sql.Composable:
            name = _col(cols, logical)
            return sql.SQL("f.{}{}").format(sql.Identifier(name), sql.SQL(cast)) if name else sql.SQL("null")

        rows = self._rows(
            sql.SQL(
                "select f.person_id::text as person_id, r.name, {o} as last_outcome, {jm} as judged_run_month, "
                "{rv} as next_review_date, {resp} as responsible, {chg} as total_points_change "
                "from {fu} f left join {res} r on r.person_id::text = f.person_id::text order by 5 nulls last, 1"
            ).format(
                o=col("last_outcome", "::text"),
                jm=col("judged_run_month", "::text"),
                rv=col("next_review_date"),
                resp=col("responsible", "::text"),
                chg=col("total_points_change"),
                fu=self.pub("follow_ups"),
                res=self.pub("residents"),
            )
        )
        return [r for r in rows if allowed is None or r["person_id"] in allowed]

    # --- casework ------------------------------------------------------------------------------------

    def may_read(self, table: str) -> bool:
        """May this login read the whole of casework.<table>? (the audience's actions decide:
        access.ACTION_GRANTS; a column or two for ``insert … returning`` is not reading the table)"""
        if not self.columns(self.config.casework_schema, table):
            return False
        row = self._one(
            "select has_table_privilege(format('%%I.%%I', %s::text, %s::text), 'select') as ok",
            (self.config.casework_schema, table),
        )
        return bool(row and row["ok"])

    def outcomes(self, person_id: str) -> list[dict[str, Any]]:
        """Every version of every outcome for the child, newest first (corrections kept)."""
        if not self.may_read("conference_outcomes"):
            return []
        return self._rows(
            sql.SQL(
                "select outcome_id, judged_run_month as run_month, version, outcome, reasons, support_actions, "
                "responsible, next_review_date, correction_reason, decided_by as entered_by, conference_date, "
                "decided_at, superseded_by is not null as is_superseded from {} "
                "where person_id = %s order by judged_run_month desc, version desc, outcome_id desc"
            ).format(self.cw("conference_outcomes")),
            (person_id,),
        )

    def current_outcome(self, person_id: str, run_month: str, lock: bool = False) -> dict[str, Any] | None:
        """The version in force for (child, judged month); with ``lock`` serialise concurrent edits."""
        if not self.may_read("conference_outcomes"):
            return None
        if lock:
            self.conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"outcome:{person_id}:{run_month}",))
        return self._one(
            sql.SQL(
                "select outcome_id, version from {} where person_id = %s and judged_run_month = %s "
                "and superseded_by is null order by version desc, outcome_id desc limit 1"
            ).format(self.cw("conference_outcomes")),
            (person_id, run_month),
        )

    def latest_version(self, person_id: str, run_month: str) -> int:
        row = self.current_outcome(person_id, run_month)
        return int(row["version"]) if row else 0

    def insert_outcome(self, person: dict[str, Any], values: dict[str, Any], entered_by: str) -> tuple[int, int]:
        """Insert a new version and mark the one it replaces; returns (outcome_id, version)."""
        previous = self.current_outcome(person["person_id"], values["run_month"], lock=True)
        version = int(previous["version"]) + 1 if previous else 1
        row = self._one(
            sql.SQL(
                "insert into {} (person_id, household_id, judged_run_month, version, outcome, reasons, "
                "support_actions, responsible, next_review_date, correction_reason, decided_by, conference_date) "
                "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning outcome_id"
            ).format(self.cw("conference_outcomes")),
            (
                person["person_id"],
                person.get("household_id"),
                values["run_month"],
                version,
                values["outcome"],
                values["reasons"],
                values["support_actions"],
                values["responsible"],
                values["next_review_date"],
                values["correction_reason"],
                entered_by,
                values["conference_date"],
            ),
        )
        outcome_id = int(row["outcome_id"])
        if previous:
            self.conn.execute(
                sql.SQL("update {} set superseded_by = %s, superseded_at = now() where outcome_id = %s").format(
                    self.cw("conference_outcomes")
                ),
                (outcome_id, previous["outcome_id"]),
            )
        return outcome_id, version

    def hand_entries(self, person_id: str) -> list[dict[str, Any]]:
        if not self.may_read("hand_entries"):
            return []
        rows = self._rows(
            sql.SQL(
                "select hand_entry_id, item_code, value, as_of_date, origin, entered_by, entered_at, correction_reason "
                "from {} where person_id = %s order by entered_at desc, hand_entry_id desc"
            ).format(self.cw("hand_entries")),
            (person_id,),
        )
        labels = self.item_labels()
        for row in rows:
            row["label"] = labels.get(row["item_code"], row["item_code"])
        return rows

    def insert_hand_entry(self, person_id: str, values: dict[str, Any], entered_by: str) -> int:
        row = self._one(
            sql.SQL(
                "insert into {} (person_id, item_code, value, as_of_date, origin, entered_by, correction_reason) "
                "values (%s, %s, %s, %s, %s, %s, %s) returning hand_entry_id"
            ).format(self.cw("hand_entries")),
            (
                person_id,
                values["item_code"],
                values["value"],
                values["as_of_date"],
                values["origin"],
                entered_by,
                values["correction_reason"],
            ),
        )
        return int(row["hand_entry_id"])

    # --- data corrections (docs/governance.md) --------------------------------------------------------

    def has_corrections(self) -> bool:
        return bool(self.columns(self.config.casework_schema, "corrections"))

    def corrections(self, person_id: str) -> list[dict[str, Any]]:
        if not self.has_corrections():
            return []
        rows = self._rows(
            sql.SQL(
                "select correction_id, item_code, kind, reason, raw_table, record_id, run_month, corrected_by, "
                "corrected_at, withdraws from {} where person_id = %s order by corrected_at desc, correction_id desc"
            ).format(self.cw("corrections")),
            (person_id,),
        )
        labels = self.item_labels()
        files = raw_table_files(self.config.settings.root)
        for row in rows:
            row["label"] = labels.get(row["item_code"], row["item_code"])
            row["record_label"] = record_label(None, None, row["record_id"], files)
        return rows

    def correction_target(self, person_id: str, item_code: str) -> dict[str, Any] | None:
        """The evidence record shown for the item (raw table, record id and stable key, linked person)."""
        cols = self.columns(self.config.published_schema, "child_item_matches")
        if not cols or "evidence_record_id" not in cols or "evidence_raw_table" not in cols:
            return None
        key = sql.SQL("evidence_record_key") if "evidence_record_key" in cols else sql.SQL("null::text")
        row = self._one(
            sql.SQL(
                "select run_month::text as run_month, evidence_raw_table as raw_table, evidence_record_id as record_id, "
                "{} as record_key from {} where person_id::text = %s and item_code = %s "
                "and evidence_record_id is not null"
            ).format(key, self.pub("child_item_matches")),
            (person_id, item_code),
        )
        if row is None:
            return None
        row["linked_person_id"] = None
        ev_cols = self.columns(self.config.published_schema, "child_item_evidence")
        if ev_cols and "via_person_id" in ev_cols:
            via = self._one(
                sql.SQL(
                    "select via_person_id from {} where person_id::text = %s and item_code = %s and record_id = %s "
                    "limit 1"
                ).format(self.pub("child_item_evidence")),
                (person_id, item_code, row["record_id"]),
            )
            row["linked_person_id"] = via["via_person_id"] if via else None
        return row

    def insert_correction(
        self, person_id: str, target: dict[str, Any], values: dict[str, Any], corrected_by: str
    ) -> tuple[int, int | None]:
        """The correction; for a wrong person also an identity decision 'different' for the linked resident."""
        row = self._one(
            sql.SQL(
                "insert into {} (person_id, item_code, raw_table, record_id, record_key, run_month, kind, reason, "
                "linked_person_id, corrected_by) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "returning correction_id"
            ).format(self.cw("corrections")),
            (
                person_id,
                values["item_code"],
                target["raw_table"],
                target["record_id"],
                target.get("record_key"),
                target["run_month"],
                values["kind"],
                values["reason"],
                target.get("linked_person_id"),
                corrected_by,
            ),
        )
        decision_id = None
        linked = target.get("linked_person_id")
        if (
            values["kind"] == "wrong_person"
            and target.get("record_key")
            and linked
            and target["raw_table"] != "jumin__residents"
        ):
            got = self._one(
                sql.SQL(
                    "insert into {} (record_key, raw_table, record_id, run_month, person_id, decision, decided_by, "
                    "reason) values (%s, %s, %s, %s, %s, 'different', %s, %s) returning decision_id"
                ).format(self.cw("identity_decisions")),
                (
                    target["record_key"],
                    target["raw_table"],
                    target["record_id"],
                    target["run_month"],
                    linked,
                    corrected_by,
                    "データ訂正（別人）: " + values["reason"],
                ),
            )
            decision_id = int(got["decision_id"])
        return int(row["correction_id"]), decision_id

    # --- identity review -----------------------------------------------------------------------------

    def identity_records(self, status: str, limit: int = 200) -> list[dict[str, Any]]:
        """Records in review (``status='review'``, 名寄せ確認) or unmatched (未照合一覧), each with
        what it says as delivered and as normalised, its candidates side by side (the resident as
        published, the comparison of every field: level in words and weight — the waterfall of
        the score) and the run's decision rule. Built by dbt (``identity_review_records``,
        ``identity_review_candidates``); no address is read. Review candidates already decided
        are left out (a record whose candidates are all decided leaves the review list)."""
        P = self.config.published_schema
        if not self.columns(P, "identity_review_records"):
            return []
        rows = self._rows(
            sql.SQL(
                "select * from {} where link_status = %s "
                "order by decision is not null, match_score desc nulls last, record_id limit %s"
            ).format(self.pub("identity_review_records")),
            (status, limit),
        )
        if not rows:
            return []
        levels = (
            self._rows(
                sql.SQL(
                    "select * from {} where record_id = any(%s) order by record_id, candidate_rank, comparison_order"
                ).format(self.pub("identity_review_candidates")),
                ([str(r["record_id"]) for r in rows],),
            )
            if self.columns(P, "identity_review_candidates")
            else []
        )
        decided = (
            {
                (r["record_key"], r["person_id"])
                for r in self._rows(
                    sql.SQL("select record_key, person_id from {} where person_id is not null").format(
                        self.cw("identity_decisions")
                    )
                )
            }
            if self.may_read("identity_decisions")
            else set()
        )
        by_record: dict[str, dict[str, dict[str, Any]]] = {}
        for lv in levels:
            cands = by_record.setdefault(str(lv["record_id"]), {})
            cand = cands.setdefault(
                str(lv["person_id"]),
                {
                    "person_id": str(lv["person_id"]),
                    "rank": lv["candidate_rank"],
                    "score": lv["match_score"],
                    "name_norm": lv["candidate_name_norm"],
                    "kana_norm": lv["candidate_kana_norm"],
                    "levels": [],
                },
            )
            running = (cand["levels"][-1]["running"] if cand["levels"] else 0) + (lv["match_weight"] or 0)
            cand["levels"].append(
                {
                    "comparison": lv["comparison"],
                    "level": lv["level"],
                    "label": lv["label_ja"] or lv["level"],
                    "weight": lv["match_weight"],
                    "running": running,
                }
            )
        residents = self.columns(P, "residents")
        out = []
        for row in rows:
            record_key = str(row["record_key"])
            candidates = []
            for cand in sorted(by_record.get(str(row["record_id"]), {}).values(), key=lambda c: c["rank"]):
                if status == "review" and (record_key, cand["person_id"]) in decided:
                    continue
                cand["person"] = (
                    self._one(
                        sql.SQL(
                            "select r.name, r.name_kana, r.birth_date, r.sex::text as sex from {} r "
                            "where r.person_id::text = %s"
                        ).format(self.pub("residents")),
                        (cand["person_id"],),
                    )
                    if residents
                    else None
                ) or {}
                cand["affiliations"] = self.affiliations(cand["person_id"])
                candidates.append(cand)
            if status == "review" and not candidates:
                continue
            out.append({**row, "record_id": str(row["record_id"]), "record_key": record_key, "candidates": candidates})
        return out

    def identity_entry(self, record_key: str) -> dict[str, Any] | None:
        """The review or unmatched record with this key, with its candidates (None if there is none)."""
        for status in ("review", "unmatched"):
            for entry in self.identity_records(status, limit=100_000):
                if entry["record_key"] == record_key:
                    return entry
        return None

    def resident_exists(self, person_id: str) -> bool:
        if not self.columns(self.config.published_schema, "residents"):
            return False
        return (
            self._one(
                sql.SQL("select 1 as ok from {} where person_id::text = %s").format(self.pub("residents")),
                (person_id,),
            )
            is not None
        )

    def insert_identity_decision(self, entry: dict[str, Any], values: dict[str, Any], decided_by: str) -> int:
        row = self._one(
            sql.SQL(
                "insert into {} (record_key, raw_table, record_id, run_month, person_id, decision, decided_by, reason) "
                "values (%s, %s, %s, %s, %s, %s, %s, %s) returning decision_id"
            ).format(self.cw("identity_decisions")),
            (
                entry["record_key"],
                entry["raw_table"] or "",
                entry["record_id"],
                entry["run_month"],
                values["person_id"] if values["decision"] != "not_in_town" else None,
                values["decision"],
                decided_by,
                values["reason"],
            ),
        )
        return int(row["decision_id"])

    # --- audit page ---------------------------------------------------------------------------------

    def audit_rows(
        self, *, username: str = "", object_id: str = "", action: str = "", limit: int = 200
    ) -> list[dict[str, Any]]:
        if not self.may_read("audit_log"):
            return []
        where, params = [sql.SQL("true")], []
        for col, value in (("username", username), ("object_id", object_id), ("action", action)):
            if value:
                where.append(sql.SQL("{} = %s").format(sql.Identifier(col)))
                params.append(value)
        params.append(limit)
        return self._rows(
            sql.SQL(
                "select audit_id, logged_at, username, staff_role, action, object_type, object_id, run_month, detail, client "
                "from {} where {} order by audit_id desc limit %s"
            ).format(self.cw("audit_log"), sql.SQL(" and ").join(where)),
            params,
        )


def age_on(birth: date | None, day: date) -> int | None:
    """Age under 年齢計算ニ関スル法律 (domain.md §8): full years from birth to day + 1."""
    if birth is None:
        return None
    from datetime import timedelta

    d = day + timedelta(days=1)
    return d.year - birth.year - ((d.month, d.day) < (birth.month, birth.day))
