"""Unit tests of the case screen's Python: passwords, sessions, CSRF, validation, audit rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from mimamori.casescreen import audit, auth
from mimamori.casescreen.repo import age_on, record_label, status_of
from mimamori.casescreen.validation import (
    parse_date,
    validate_hand_entry,
    validate_identity_decision,
    validate_outcome,
)
from mimamori.casescreen.vocab import ITEMS, PERMISSIONS, ROLES

TODAY = date(2026, 11, 20)


# --- passwords and CSRF -------------------------------------------------------------------------


def test_passwords_are_argon2_hashed_and_verified():
    hashed = auth.hash_password("correct-horse-battery")
    assert hashed.startswith("$argon2id$")
    assert "correct-horse" not in hashed
    assert auth.verify_password(hashed, "correct-horse-battery")
    assert not auth.verify_password(hashed, "wrong")
    assert not auth.verify_password("not a hash", "wrong")


def test_weak_passwords_are_refused_in_japanese():
    assert "12文字以上" in auth.check_new_password("short")
    assert auth.check_new_password(auth.generate_password()) is None


def test_login_csrf_token_is_bound_to_the_pre_login_cookie():
    token = auth.login_csrf_token("key", "cookie-a")
    assert auth.check_login_csrf("key", "cookie-a", token)
    assert not auth.check_login_csrf("key", "cookie-b", token)
    assert not auth.check_login_csrf("other-key", "cookie-a", token)
    assert not auth.check_login_csrf("key", None, token)
    assert not auth.check_login_csrf("key", "cookie-a", "")


def test_tokens_equal_refuses_empty_tokens():
    assert auth.tokens_equal("abc", "abc")
    assert not auth.tokens_equal("", "")
    assert not auth.tokens_equal(None, None)
    assert not auth.tokens_equal("abc", "abd")


def test_roles_and_permissions():
    assert "analyst" not in ROLES and "analyst" not in PERMISSIONS
    assert PERMISSIONS["coordinator"] >= {"audit", "outcome", "hand_entry", "identity", "sheet", "view"}
    assert "audit" not in PERMISSIONS["caseworker"] and "audit" not in PERMISSIONS["nurse"]
    assert "outcome" not in PERMISSIONS["school_board"] and "identity" not in PERMISSIONS["school_board"]


def test_add_user_refuses_the_analyst_and_weak_passwords(cs_config):
    from mimamori.stack import pg

    with pg.connect(cs_config.settings, role="casework") as conn:
        with pytest.raises(ValueError, match="analyst"):
            auth.add_user(conn, cs_config.casework_schema, "bunseki", "analyst", "long-enough-password")
        with pytest.raises(ValueError, match="12文字"):
            auth.add_user(conn, cs_config.casework_schema, "tanaka", "nurse", "short")


# --- sessions -------------------------------------------------------------------------------------


def test_sessions_expire_when_idle_and_when_too_old(cs_config):
    from mimamori.stack import pg

    schema = cs_config.casework_schema
    idle, absolute = timedelta(minutes=30), timedelta(hours=10)
    with pg.connect(cs_config.settings, role="casework") as conn:
        staff, reason = auth.authenticate(conn, schema, "cw", "correct-horse-battery-42")
        assert staff is not None and reason == "" and staff.role == "caseworker"
        token, csrf = auth.create_session(conn, schema, staff)
        now = datetime.now(UTC)
        session = auth.load_session(conn, schema, token, idle, absolute, now=now + timedelta(minutes=29))
        assert session is not None and session.csrf_token == csrf and session.staff.username == "cw"
        # 29 minutes later it was touched, so another 29 minutes are fine; 31 idle minutes are not
        assert auth.load_session(conn, schema, token, idle, absolute, now=now + timedelta(minutes=58))
        assert auth.load_session(conn, schema, token, idle, absolute, now=now + timedelta(minutes=90)) is None
        # and the expired session is gone for good
        assert auth.load_session(conn, schema, token, idle, absolute, now=now + timedelta(minutes=59)) is None
        token2, _ = auth.create_session(conn, schema, staff)
        assert (
            auth.load_session(conn, schema, token2, timedelta(days=9), absolute, now=now + timedelta(hours=11)) is None
        )
        assert auth.load_session(conn, schema, "not-a-token", idle, absolute) is None
        # the cookie token itself is never stored
        stored = conn.execute(f"select session_hash from {schema}.staff_sessions").fetchall()
        assert all(token not in row[0] for row in stored)
        conn.rollback()


def test_wrong_passwords_lock_an_account_only_from_more_than_one_address(cs_config):
    """One address is refused after ADDRESS_MAX_FAILURES and cannot lock the account; failures from
    two addresses can (issue #17: anyone could lock the coordinator out with five guesses)."""
    from mimamori.stack import pg

    schema, right = cs_config.casework_schema, "another-long-password"
    with pg.connect(cs_config.settings, role="casework") as conn:
        auth.add_user(conn, schema, "locktest", "nurse", right)
        for _ in range(auth.ADDRESS_MAX_FAILURES):
            assert auth.authenticate(conn, schema, "locktest", "wrong", "192.0.2.1")[1] == "mismatch"
        assert auth.authenticate(conn, schema, "locktest", right, "192.0.2.1") == (None, "address_limited")
        assert auth.authenticate(conn, schema, "locktest", right, "192.0.2.2")[0] is not None  # not locked
        assert auth.MAX_FAILED_LOGINS <= 2 * auth.ADDRESS_MAX_FAILURES
        for attempt in range(auth.MAX_FAILED_LOGINS):
            address = "192.0.2.3" if attempt < auth.ADDRESS_MAX_FAILURES else "192.0.2.4"
            assert auth.authenticate(conn, schema, "locktest", "wrong", address)[1] == "mismatch"
        assert auth.authenticate(conn, schema, "locktest", right, "192.0.2.5") == (None, "locked")
        assert auth.authenticate(conn, schema, "nobody", "x", "192.0.2.5") == (None, "unknown")
        assert auth.unlock(conn, schema, username="locktest", by="it-staff") == ["user locktest"]
        assert auth.authenticate(conn, schema, "locktest", right, "192.0.2.5")[0] is not None
        # every attempt is in the audit trail with the name as typed and the address, never a password
        rows = conn.execute(
            f"select action, username, client, detail::text from {schema}.audit_log "
            "where action in ('login', 'login_failed', 'unlock') and (username in ('locktest', 'nobody', 'it-staff'))"
        ).fetchall()
        # 10 wrong + 1 refused + 1 right, 20 wrong, locked, unknown, unlock, right
        assert len(rows) == auth.ADDRESS_MAX_FAILURES + 2 + auth.MAX_FAILED_LOGINS + 4
        assert {r[2] for r in rows} >= {"192.0.2.1", "192.0.2.3", "192.0.2.4", "192.0.2.5", "cli"}
        assert not any(right in (r[3] or "") or "wrong" in (r[3] or "") for r in rows)
        conn.rollback()


# --- validation -------------------------------------------------------------------------------------


def _outcome(**kw):
    form = {
        "outcome": "要支援",
        "run_month": "2026-10",
        "reasons": "学校からの聞き取りで欠席が増えている。",
        "support_actions": ["面談", "家庭訪問"],
        "responsible": "相談員 花子",
        "next_review_date": "2027-02-01",
        "conference_date": "2026-11-19",
    }
    form.update(kw)
    return form


def test_a_complete_outcome_is_accepted():
    result = validate_outcome(_outcome(support_action_other="フードバンク"), today=TODAY)
    assert result.ok, result.errors
    assert result.values["support_actions"] == ["面談", "家庭訪問", "その他:フードバンク"]
    assert result.values["next_review_date"] == date(2027, 2, 1)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"outcome": "危険"}, "outcome", "要支援・調査継続・経過観察・支援不要"),
        ({"reasons": "  "}, "reasons", "理由を入力"),
        ({"support_actions": []}, "support_actions", "支援内容を1つ以上"),
        ({"support_actions": ["監視"]}, "support_actions", "選択肢にない"),
        ({"responsible": ""}, "responsible", "担当者を入力"),
        ({"next_review_date": ""}, "next_review_date", "次回見直し日を入力"),
        ({"next_review_date": "2027-02-30"}, "next_review_date", "実在する日付"),
        ({"next_review_date": "2026-11-20"}, "next_review_date", "今日より後"),
        ({"next_review_date": "2030-01-01"}, "next_review_date", "2年以内"),
        ({"conference_date": "2026-12-01"}, "conference_date", "未来"),
        ({"run_month": "2026-13"}, "run_month", "対象月"),
    ],
)
def test_bad_outcomes_get_a_clear_japanese_message(change, field, message):
    result = validate_outcome(_outcome(**change), today=TODAY)
    assert not result.ok
    assert message in result.errors[field]


def test_no_support_needed_needs_no_review_date_and_a_correction_needs_a_reason():
    assert validate_outcome(_outcome(outcome="支援不要", support_actions=[], next_review_date=""), today=TODAY).ok
    corrected = validate_outcome(_outcome(), today=TODAY, is_correction=True)
    assert "訂正の理由" in corrected.errors["correction_reason"]
    assert validate_outcome(_outcome(correction_reason="日付の誤り"), today=TODAY, is_correction=True).ok


def test_full_width_digits_and_slashes_are_accepted_in_dates():
    assert parse_date("２０２６－１０－０１") == date(2026, 10, 1)
    assert parse_date("２０２６-１０-０１") == date(2026, 10, 1)
    assert parse_date("2026/10/1") == date(2026, 10, 1)
    assert parse_date("令和8年10月1日") is None


@pytest.mark.parametrize("code", sorted(ITEMS))
def test_every_one_of_the_37_items_can_be_hand_entered(code):
    for value in ("true", "false"):
        result = validate_hand_entry(
            {"item_code": code, "value": value, "as_of_date": "2026-10-01", "origin": "紙台帳"}, today=TODAY
        )
        assert result.ok, result.errors
        assert result.values["item_code"] == code and result.values["value"] is (value == "true")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"item_code": "I99"}, "item_code", "項目を一覧から"),
        ({"value": "maybe"}, "value", "該当あり"),
        ({"as_of_date": ""}, "as_of_date", "基準日（紙の記録の日付）を入力"),
        ({"as_of_date": "2026-02-29"}, "as_of_date", "実在する日付"),
        ({"as_of_date": "2026-12-01"}, "as_of_date", "未来"),
        ({"origin": ""}, "origin", "出所"),
        ({"origin": "その他"}, "origin", "その内容"),
    ],
)
def test_bad_hand_entries_get_a_clear_japanese_message(change, field, message):
    form = {"item_code": "I06", "value": "true", "as_of_date": "2026-10-01", "origin": "紙台帳", **change}
    result = validate_hand_entry(form, today=TODAY)
    assert message in result.errors[field]


def test_removing_a_source_true_needs_a_correction_reason():
    form = {"item_code": "I08", "value": "false", "as_of_date": "2026-10-01", "origin": "面談記録"}
    result = validate_hand_entry(form, today=TODAY, source_status="true")
    assert "訂正の理由" in result.errors["correction_reason"]
    assert validate_hand_entry({**form, "correction_reason": "廃止済みを確認"}, today=TODAY, source_status="true").ok
    # a source's false or unknown may be overridden without one
    assert validate_hand_entry(form, today=TODAY, source_status="unknown").ok


def test_hand_entry_before_birth_is_refused():
    form = {"item_code": "I06", "value": "true", "as_of_date": "2010-01-01", "origin": "紙台帳"}
    result = validate_hand_entry(form, today=TODAY, birth_date=date(2016, 6, 10))
    assert "出生より前" in result.errors["as_of_date"]


def test_identity_decision_validation():
    assert validate_identity_decision({"decision": "same", "record_key": "r1", "person_id": "p1"}).ok
    assert (
        "同一人物"
        in validate_identity_decision({"decision": "x", "record_key": "r", "person_id": "p"}).errors["decision"]
    )
    assert "対象のレコード" in validate_identity_decision({"decision": "same", "person_id": "p"}).errors["record_key"]


# --- small helpers -----------------------------------------------------------------------------------


def test_age_follows_the_age_calculation_law():
    assert age_on(date(2006, 5, 1), date(2025, 4, 30)) == 19
    assert age_on(date(2006, 5, 2), date(2025, 4, 30)) == 18
    assert age_on(None, date(2025, 4, 30)) is None


def test_status_of_keeps_unknown_apart_from_false():
    assert status_of({"s": None}, "s") == "unknown"
    assert status_of({"s": False}, "s") == "false"
    assert status_of({"s": "true"}, "s") == "true"
    assert status_of({"s": "unknown"}, "s") == "unknown"
    assert status_of({}, None) == "unknown"


def test_record_label_reads_the_delivered_file_and_row_for_both_record_id_forms():
    files = {"fukushi__public_assistance": "生活保護.csv"}
    # the delivered file and row, when the row carries them
    assert record_label("seiho_202610.csv", 7, "whatever", files) == "seiho_202610.csv 7行目"
    # contract layout: <raw table>:<row>, through the contract's file name
    assert record_label(None, None, "fukushi__public_assistance:19", files) == "生活保護.csv 19行目"
    # a mapped town: <raw table>:<delivered file>:<row> names the delivered file, not the contract's
    mapped = "fukushi__public_assistance:KJ_SEIHO_20261001.txt:19"
    assert record_label(None, None, mapped, files) == "KJ_SEIHO_20261001.txt 19行目"
    assert record_label(None, None, "raw_x:a:b.csv:3", {}) == "a:b.csv 3行目"
    # anything else is shown as it is
    assert record_label(None, None, "raw_unknown:19", files) == "raw_unknown:19"
    assert record_label(None, None, "fukushi__public_assistance:x", files) == "fukushi__public_assistance:x"
    assert record_label(None, None, None, files) == ""


# --- audit rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "detail",
    [{"name": "山田　太郎"}, {"item_code": "山田"}, {"reason_code": "学校で 欠席"}, {"fields": ["ok", "住所"]}],
)
def test_audit_detail_refuses_personal_values(detail):
    with pytest.raises(ValueError):
        audit._check_detail(detail)


def test_audit_log_is_append_only(cs_config):
    from mimamori.stack import pg

    schema = cs_config.casework_schema
    # a signed-in page's login appends (the login page's own role may only record sign-ins)
    with pg.connect(cs_config.settings, role="casework", autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            audit.record(conn, schema, "view_child", username="cw", object_type="child", object_id="100002")
    with pg.connect(cs_config.settings, role="case_staff", autocommit=True) as conn:
        audit_id = audit.record(conn, schema, "view_child", username="cw", object_type="child", object_id="100002")
        for stmt in (
            f"update {schema}.audit_log set action = 'x' where audit_id = {audit_id}",
            f"delete from {schema}.audit_log where audit_id = {audit_id}",
            f"truncate {schema}.audit_log",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(stmt)
    # even the owner (transformer) and the superuser are refused by the trigger
    for role in ("transformer", None):
        with pg.connect(cs_config.settings, role=role, autocommit=True) as conn:
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(f"delete from {schema}.audit_log where audit_id = {audit_id}")
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(f"update {schema}.audit_log set action = 'x' where audit_id = {audit_id}")


def test_the_app_role_cannot_rewrite_outcomes_or_hand_entries(cs_config):
    from mimamori.stack import pg

    schema = cs_config.casework_schema
    with pg.connect(cs_config.settings, role="casework", autocommit=True) as conn:
        for table in ("conference_outcomes", "hand_entries", "identity_decisions"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"update {schema}.{table} set person_id = person_id")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(
                    f"update {schema}.{table} set decided_at = now()"
                    if table != "hand_entries"
                    else f"update {schema}.{table} set value = not value"
                )
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"delete from {schema}.{table}")


def test_init_db_is_idempotent(cs_config):
    from mimamori.casescreen.schema import TABLES, init_db

    assert init_db(cs_config) == [f"{cs_config.casework_schema}.{t}" for t in TABLES]
