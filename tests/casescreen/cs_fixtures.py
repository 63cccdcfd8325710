"""Data and helpers shared by the case-screen tests (imported as `cs_fixtures`)."""

from __future__ import annotations

import re
from datetime import date

PUB, HIST, CW = "cs_test_pub", "cs_test_hist", "cs_test_cw"
MONTH = "2026-10"

#: a DV-protected resident's address: must never appear anywhere
DV_ADDRESS = "開成町延沢九九九番地の秘匿"
PLAIN_ADDRESS = "開成町吉田島一丁目二番三号"

PASSWORDS = {
    "coord": ("coordinator", "総括 太郎"),
    "cw": ("caseworker", "相談員 花子"),
    "nurse": ("nurse", "保健師 みどり"),
    "sb": ("school_board", "教委 次郎"),
}
PASSWORD = "correct-horse-battery-42"

RESIDENTS = [
    # person_id, household_id, name, kana, sex, relationship, address, birth, dv
    ("100001", "H001", "山田　花子", "ヤマダ　ハナコ", "2", "世帯主", PLAIN_ADDRESS, date(1988, 5, 1), "無"),
    ("100002", "H001", "山田　太郎", "ヤマダ　タロウ", "1", "子", PLAIN_ADDRESS, date(2016, 6, 10), "無"),
    ("100003", "H001", "山田　次郎", "ヤマダ　ジロウ", "1", "子", PLAIN_ADDRESS, date(2022, 1, 5), "無"),
    ("200001", "H002", "佐藤　由美", "サトウ　ユミ", "2", "世帯主", DV_ADDRESS, date(1990, 3, 3), "有"),
    ("200002", "H002", "佐藤　さくら", "サトウ　サクラ", "2", "子", DV_ADDRESS, date(2018, 8, 8), "無"),
    ("300001", "H003", "鈴木　恵", "スズキ　メグミ", "2", "世帯主", "開成町宮台五番", date(1995, 2, 2), "無"),
    ("300002", "H003", "鈴木　一郎", "スズキ　イチロウ", "1", "子", "開成町宮台五番", date(2026, 3, 1), "無"),
    ("400002", "H004", "田中　陽", "タナカ　ヒナタ", "1", "子", "開成町金井島七番", date(2012, 9, 9), "無"),
]
CHILDREN = {"100002": 10, "100003": 4, "200002": 8, "300002": 0, "400002": 14}
TYPE_SCORES = [
    # person_id, type_code, score, threshold, flagged
    ("100002", "poverty", 3, 2, True),
    ("100002", "young_carer", 2, 2, True),
    ("100003", "poverty", 1, 2, False),
    ("200002", "abuse", 2, 2, True),
    ("300002", "postpartum_depression", 1, 1, True),
    ("400002", "withdrawal", 0, 1, False),
]
TOTALS = {"100002": 6, "100003": 2, "200002": 3, "300002": 2, "400002": 1}
MATCHES = [
    # person_id, item_code, status, evidence_raw_table, evidence_record_id, evidence_date
    ("100002", "I08", "true", "fukushi__public_assistance", "PA-0012", date(2025, 4, 1)),
    ("100002", "I09", "true", "kodomo_shien__child_rearing_allowance", "CRA-3", date(2024, 1, 10)),
    ("100002", "I33", "true", "gakko__school_lunch_arrears", "SL-7", date(2026, 9, 30)),
    ("100002", "I07", "true", "fukushi__care_need_certifications", "CN-5", date(2026, 2, 1)),
    ("100002", "I06", "unknown", None, None, None),
    ("100002", "I01", "false", None, None, None),
    ("200002", "I17", "true", "fukushi__consultations", "C-44", date(2026, 7, 1)),
    ("200002", "I14", "true", "jumin__residents", "200002", date(2026, 1, 15)),
    ("300002", "I28", "true", "kodomo_katei__maternity", "M-9", date(2026, 5, 1)),
]
AFFILIATIONS = [
    ("100002", "学校", "開成小学校", 4),
    ("200002", "学校", "開成南小学校", 2),
    ("100003", "保育所", "あじさい保育園", None),
]


def _create_fixture_schemas(conn) -> None:
    for schema in (PUB, HIST, CW):
        conn.execute(f"drop schema if exists {schema} cascade")
    conn.execute(f"create schema {PUB}")
    conn.execute(f"create schema {HIST}")
    conn.execute(f"create schema {CW} authorization transformer")
    # the casework policies refer to the register (as they refer to published.child_affiliations)
    conn.execute(f"grant usage on schema {PUB}, {HIST} to transformer")
    ddl = {
        "publication": "run_month text, published_at timestamptz",
        "residents": "person_id text, household_id text, name text, name_kana text, sex text, relationship text, "
        "address text, birth_date date, has_dv_protection boolean, is_address_withheld boolean, run_month text",
        "children": "person_id text, age int, age_band text, run_month text",
        "child_type_scores": "person_id text, type_code text, score int, threshold int, is_flagged boolean, run_month text",
        "child_scores": "person_id text, total_points int, run_month text",
        "child_item_matches": "person_id text, item_code text, status text, evidence_raw_table text, "
        "evidence_record_id text, evidence_date date, hand_entry_origin text, evidence_detail text, run_month text",
        "household_candidates": "household_id text, person_ids text, household_rank int, is_proposed boolean, "
        "run_month text",
        "candidate_children": "person_id text, household_id text, is_flagged boolean, matched_items text, "
        "run_month text",
        "follow_ups": "person_id text, last_outcome text, judged_run_month text, responsible text, reasons text, "
        "total_points_change int, next_review_date date, run_month text",
        "identity_review_records": "record_id text, record_key text, raw_table text, source_file text, "
        "link_status text, link_method text, decision text, match_reason text, record_name text, "
        "record_name_kana text, record_sex text, record_school text, record_grade text, record_student_no text, "
        "record_claimed_atena_no text, name_norm text, kana_norm text, match_score numeric, runner_up_score numeric, "
        "rule_link_threshold numeric, rule_review_threshold numeric, rule_tie_margin numeric, "
        "source_row_number int, record_birth_date date, run_month text",
        "identity_review_candidates": "record_id text, person_id text, comparison text, level text, label_ja text, "
        "candidate_name_norm text, candidate_kana_norm text, candidate_rank int, comparison_order int, "
        "match_weight numeric, match_score numeric, run_month text",
        "child_affiliations": "person_id text, affiliation_type text, affiliation_name text, grade int, "
        "is_on_school_register boolean, run_month text",
        "identity_review_queue": "record_id text, record_key text, raw_table text, source_file text, "
        "candidate_person_ids text[], match_reason text, candidate_reasons text[], match_score numeric, "
        "runner_up_score numeric, candidate_scores numeric[], source_row_number int, run_month text",
    }
    for table, cols in ddl.items():
        conn.execute(f"create table {PUB}.{table} ({cols})")
    conn.execute(f"create table {HIST}.child_type_scores (like {PUB}.child_type_scores)")
    conn.execute(f"create table {HIST}.child_scores (like {PUB}.child_scores)")
    conn.execute(f"create table {HIST}.child_affiliations (like {PUB}.child_affiliations)")

    def many(table, rows):
        if rows:
            marks = ", ".join(["%s"] * len(rows[0]))
            with conn.cursor() as cur:
                cur.executemany(f"insert into {table} values ({marks})", rows)

    many(f"{PUB}.publication", [(MONTH, "2026-10-16T06:00:00+09:00")])
    # the mart withholds the address of a 支援措置 household and of anyone at its address
    protected = {(r[1], r[6]) for r in RESIDENTS if r[8] == "有"}
    withheld = [(*r[:8], r[8] == "有", any(r[1] == h or r[6] == a for h, a in protected), MONTH) for r in RESIDENTS]
    many(f"{PUB}.residents", [(*r[:6], None if r[9] else r[6], *r[7:]) for r in withheld])
    many(f"{PUB}.children", [(p, a, "6-11" if 6 <= a <= 11 else "x", MONTH) for p, a in CHILDREN.items()])
    many(f"{PUB}.child_type_scores", [(*r, MONTH) for r in TYPE_SCORES])
    many(f"{PUB}.child_scores", [(p, t, MONTH) for p, t in TOTALS.items()])
    many(f"{PUB}.child_item_matches", [(*r, None, None, MONTH) for r in MATCHES])
    # last month's hand entry from a paper ledger, in force this month: the item shows its origin
    many(f"{PUB}.child_item_matches", [("200002", "I06", "true", None, None, None, "紙台帳", None, MONTH)])
    many(
        f"{PUB}.household_candidates",
        [
            ("H001", "100002", 1, True, MONTH),
            ("H002", "200002", 2, True, MONTH),
            ("H003", "300002", 3, True, MONTH),
        ],
    )
    flagged = {r[0] for r in TYPE_SCORES if r[4]}
    households = {r[0]: r[1] for r in RESIDENTS}
    many(f"{PUB}.candidate_children", [(p, households[p], True, "I08 I09", MONTH) for p in sorted(flagged)])
    many(
        f"{PUB}.follow_ups",
        [("400002", "経過観察", "2026-08", "保健師 みどり", "見守りを続ける", 1, date(2026, 12, 1), MONTH)],
    )
    affiliations = [(*a, a[1] == "学校", MONTH) for a in AFFILIATIONS]
    many(f"{PUB}.child_affiliations", affiliations)
    many(f"{HIST}.child_affiliations", affiliations)
    many(
        f"{PUB}.identity_review_queue",
        [
            (
                "gakko__school_register:17",
                "gakko__school_register:S0017",
                "gakko__school_register",
                "学齢簿.csv",
                ["100002", "100003"],
                "name=close; kana=exact; birth_date=exact; sex=agree; address=exact",
                ["name=close; kana=exact", "name=different"],
                11.55,
                -1.2,
                [11.55, -1.2],
                17,
                MONTH,
            )
        ],
    )
    rule = (13, 8, 5)
    many(
        f"{PUB}.identity_review_records",
        [
            # in review: the name written with another kanji, everything else agrees
            ("gakko__school_register:17", "gakko__school_register:S0017", "gakko__school_register", "学齢簿.csv",
             "review", "probabilistic", None, "name=close; kana=exact", "山田　太朗", "ヤマダ　タロウ", "1",
             "開成小学校", "4", "S0017", None, "山田太朗", "ヤマダタロ", 11.55, -1.2, *rule, 17, date(2016, 6, 10),
             MONTH),
            # unmatched: a 宛名番号 not on this month's register (moved out), no candidate
            ("fukushi__consultations:5", "fukushi__consultations:C-5", "fukushi__consultations", "相談記録.csv",
             "unmatched", "atena_no", None, "atena_no not on spine", None, None, None, None, None, None, "999999",
             None, None, None, None, *rule, 5, None, MONTH),
        ],
    )  # fmt: skip
    levels = [
        ("name", "close", "氏名が1文字違い・綴りが近い", 0.58, -6.61),
        ("kana", "exact", "カナ氏名が一致（表記ゆれをそろえて）", 10.21, -6.62),
        ("birth_date", "exact", "生年月日が一致", 8.34, 8.34),
        ("sex", "agree", "性別が一致", 0.99, 0.99),
        ("address", "exact", "住所が一致（表記ゆれをそろえて）", 8.23, 8.23),
    ]
    many(
        f"{PUB}.identity_review_candidates",
        [
            ("gakko__school_register:17", pid, comp, "different" if rank == 2 and comp in ("name", "kana") else lv,
             "氏名が違う" if rank == 2 and comp == "name" else "カナ氏名が違う" if rank == 2 and comp == "kana" else label,
             norm, kana, rank, order, w2 if rank == 2 else w1, 11.55 if rank == 1 else -1.2, MONTH)
            for rank, pid, norm, kana in ((1, "100002", "山田太郎", "ヤマダタロ"), (2, "100003", "山田次郎", "ヤマダジロ"))
            for order, (comp, lv, label, w1, w2) in enumerate(levels, start=1)
        ],
    )  # fmt: skip
    many(
        f"{HIST}.child_type_scores",
        [
            ("100002", "poverty", 1, 2, False, "2026-08"),
            ("100002", "poverty", 2, 2, True, "2026-09"),
            ("100002", "poverty", 3, 2, True, "2026-10"),
            ("100002", "young_carer", 2, 2, True, "2026-10"),
        ],
    )
    many(f"{HIST}.child_scores", [("100002", 3, "2026-08"), ("100002", 5, "2026-09"), ("100002", 6, "2026-10")])


def login(client, username: str, password: str = PASSWORD):
    """Log in through the form (pre-login CSRF included); returns the final response."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token, "next": ""})


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def apply_access(conn) -> None:
    """The audience declaration on the fixture schemas, as publication applies it to the real ones."""
    from mimamori import access

    decl = access.declaration()
    schemas = access.Schemas(published=PUB, pseudo=PUB + "_pseudo", history=HIST, casework=CW)
    access.apply_published(conn, decl, schemas=schemas)
    access.apply_casework(conn, decl, schemas=schemas)
