"""A disclosure follows a link back to raw by row number: that must be the built attempt's row
(issue 16: attempts stand side by side in raw, and another attempt's row N is someone else)."""

from __future__ import annotations


def test_a_links_row_number_reads_the_built_attempts_row_only(published_town, gov_conn):
    from mimamori import disclosure

    attempt, month = gov_conn.execute(
        "select run_id, run_month from intermediate.int_identity__build_attempt"
    ).fetchone()
    person, table, number = gov_conn.execute(
        "select person_id, raw_table, source_row_number from intermediate.int_identity__links"
        " where link_status = 'linked' and person_id is not null and claimed_atena_no is null"
        " order by raw_table, source_row_number limit 1"
    ).fetchone()
    columns = [
        r[0]
        for r in gov_conn.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = %s"
            " and column_name not in ('source_row_number', 'run_id') order by ordinal_position",
            (table,),
        ).fetchall()
    ]
    cols = ", ".join(f'"{c}"' for c in columns)
    # Another attempt of the month delivered a different record at the same row number.
    gov_conn.execute(
        f'insert into raw."{table}" ({cols}, source_row_number, run_id) select {cols}, %s, %s'
        f' from raw."{table}" where run_month = %s and run_id = %s and source_row_number <> %s limit 1',
        (number, "manual__another-attempt", month, attempt, number),
    )
    try:
        data = disclosure.collect(gov_conn, person)
    finally:
        gov_conn.execute(f'delete from raw."{table}" where run_id = %s', ("manual__another-attempt",))
    rows = [r for r in data["linked_records"] if r["raw_table"] == table and r["source_row_number"] == number]
    assert rows, "the linked record itself is disclosed"
    assert {r["run_id"] for r in rows} == {attempt}, "another attempt's row (someone else) was disclosed"
