"""Helpers shared by the boundary tests (imported as ``boundary_helpers``)."""

from __future__ import annotations


def register_rows(su, schema: str, table: str) -> int:
    """Rows of schema.table whose child is on that month's 学齢簿 (what the school board may see)."""
    return su.execute(
        f"select count(*) from {schema}.{table} t where (t.run_month, t.person_id) in "
        "(select run_month, person_id from history.child_affiliations where is_on_school_register)"
    ).fetchone()[0]
