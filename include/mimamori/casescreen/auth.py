"""Staff accounts, server-side sessions and CSRF tokens.

- Passwords: argon2id (argon2-cffi's defaults), rehashed on login when the parameters change.
  Five failed logins lock the account for 15 minutes.
- Sessions: a random token in an HttpOnly, SameSite=Strict cookie; the database keeps only its
  SHA-256 and the session's CSRF token. A session ends after ``idle_minutes`` without a request
  or ``absolute_hours`` after login, and at logout.
- CSRF: every form carries the session's token (synchronizer token); the login form, before
  there is a session, carries an HMAC of a random pre-login cookie (double submit, signed).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from psycopg import sql

from mimamori.casescreen.vocab import PERMISSIONS, ROLES

_HASHER = PasswordHasher()
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 12
#: an argon2 hash of a random password: verified against when the user does not exist, so a
#: missing account costs the same time as a wrong password
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Staff:
    staff_id: int
    username: str
    display_name: str
    role: str

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    def may(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())


@dataclass(frozen=True)
class Session:
    staff: Staff
    csrf_token: str
    session_hash: str


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_new_password(password: str) -> str | None:
    """A Japanese message if `password` is too weak, else None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"パスワードは{MIN_PASSWORD_LENGTH}文字以上にしてください。"
    return None


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_equal(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


# --- pre-login CSRF ---------------------------------------------------------------------------


def login_csrf_token(secret_key: str, pre_cookie: str) -> str:
    return hmac.new(secret_key.encode(), b"login:" + pre_cookie.encode(), hashlib.sha256).hexdigest()


def check_login_csrf(secret_key: str, pre_cookie: str | None, submitted: str | None) -> bool:
    if not pre_cookie or not submitted:
        return False
    return hmac.compare_digest(login_csrf_token(secret_key, pre_cookie), submitted)


# --- users ------------------------------------------------------------------------------------


def add_user(conn, schema: str, username: str, role: str, password: str, display_name: str | None = None) -> int:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)} (the analyst has no access); got {role!r}")
    weak = check_new_password(password)
    if weak:
        raise ValueError(weak)
    row = conn.execute(
        sql.SQL(
            "insert into {}.staff_users (username, display_name, role, password_hash) values (%s, %s, %s, %s) "
            "on conflict (username) do update set role = excluded.role, password_hash = excluded.password_hash, "
            "display_name = excluded.display_name, is_active = true, failed_logins = 0, locked_until = null "
            "returning staff_id"
        ).format(sql.Identifier(schema)),
        (username, display_name or username, role, hash_password(password)),
    ).fetchone()
    return row[0]


def authenticate(conn, schema: str, username: str, password: str) -> tuple[Staff | None, str]:
    """(staff, '') on success, else (None, reason code): unknown | locked | mismatch | inactive."""
    s = sql.Identifier(schema)
    row = conn.execute(
        sql.SQL(
            "select staff_id, username, display_name, role, password_hash, is_active, failed_logins, "
            "locked_until > now() from {}.staff_users where username = %s"
        ).format(s),
        (username,),
    ).fetchone()
    if row is None:
        verify_password(_DUMMY_HASH, password)
        return None, "unknown"
    staff_id, uname, display, role, stored, active, failed, locked = row
    if locked:
        return None, "locked"
    if not verify_password(stored, password):
        failed += 1
        conn.execute(
            sql.SQL(
                "update {}.staff_users set failed_logins = %s, "
                "locked_until = case when %s >= %s then now() + make_interval(mins => %s) end where staff_id = %s"
            ).format(s),
            (0 if failed >= MAX_FAILED_LOGINS else failed, failed, MAX_FAILED_LOGINS, LOCK_MINUTES, staff_id),
        )
        return None, "mismatch"
    if not active or role not in ROLES:
        return None, "inactive"
    new_hash = hash_password(password) if _HASHER.check_needs_rehash(stored) else stored
    conn.execute(
        sql.SQL(
            "update {}.staff_users set failed_logins = 0, locked_until = null, last_login_at = now(), "
            "password_hash = %s where staff_id = %s"
        ).format(s),
        (new_hash, staff_id),
    )
    return Staff(staff_id, uname, display, role), ""


# --- sessions ---------------------------------------------------------------------------------


def create_session(conn, schema: str, staff: Staff) -> tuple[str, str]:
    """(cookie token, csrf token) of a new session for `staff`."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    conn.execute(
        sql.SQL("insert into {}.staff_sessions (session_hash, staff_id, csrf_token) values (%s, %s, %s)").format(
            sql.Identifier(schema)
        ),
        (_token_hash(token), staff.staff_id, csrf),
    )
    return token, csrf


def load_session(
    conn, schema: str, token: str | None, idle: timedelta, absolute: timedelta, now: datetime | None = None
) -> Session | None:
    """The live session of cookie `token` (and mark it seen), or None if absent or expired."""
    if not token:
        return None
    s = sql.Identifier(schema)
    key = _token_hash(token)
    row = conn.execute(
        sql.SQL(
            "select u.staff_id, u.username, u.display_name, u.role, u.is_active, x.csrf_token, "
            "x.created_at, x.last_seen_at from {s}.staff_sessions x join {s}.staff_users u using (staff_id) "
            "where x.session_hash = %s"
        ).format(s=s),
        (key,),
    ).fetchone()
    if row is None:
        return None
    staff_id, username, display, role, active, csrf, created, seen = row
    now = now or datetime.now(UTC)
    if not active or role not in ROLES or now - seen > idle or now - created > absolute:
        conn.execute(sql.SQL("delete from {}.staff_sessions where session_hash = %s").format(s), (key,))
        return None
    conn.execute(
        sql.SQL("update {}.staff_sessions set last_seen_at = %s where session_hash = %s").format(s), (now, key)
    )
    return Session(Staff(staff_id, username, display, role), csrf, key)


def end_session(conn, schema: str, session_hash: str) -> None:
    conn.execute(
        sql.SQL("delete from {}.staff_sessions where session_hash = %s").format(sql.Identifier(schema)), (session_hash,)
    )


def purge_expired(conn, schema: str, idle: timedelta) -> int:
    cur = conn.execute(
        sql.SQL("delete from {}.staff_sessions where last_seen_at < now() - %s").format(sql.Identifier(schema)),
        (idle,),
    )
    return cur.rowcount
