"""Staff accounts, server-side sessions and CSRF tokens.

- Passwords: argon2id (argon2-cffi's defaults), rehashed on login when the parameters change.
- Logins (:func:`authenticate`): every refusal answers the same — the same message, status and
  work (one argon2 verification, the same queries) — whether the name is unknown, the password
  wrong, the account locked or deactivated, so neither the text nor the time tells which names
  exist. Two limits, both counted from the audit trail (``login_failed`` rows, which carry the
  name as typed and the client address, never a password):

  * per client address: after ``ADDRESS_MAX_FAILURES`` failed logins within ``WINDOW_MINUTES``
    the address is refused (HTTP 429, before any password check) until it has been quiet that
    long; refused attempts count too, so a guesser who keeps trying stays refused;
  * per account: ``MAX_FAILED_LOGINS`` wrong passwords within ``WINDOW_MINUTES`` lock the
    account for ``LOCK_MINUTES`` (``python -m mimamori.casescreen unlock USER`` lifts it).

  The account threshold is twice the address one on purpose: no single address can lock
  anybody out (before issue #17, five guesses from anywhere locked the coordinator out); a
  lock needs failures from two or more addresses within the window, i.e. a spread-out attack,
  where locking is the right answer. A successful login or an ``unlock`` restarts the
  account's count; an ``unlock --address`` restarts an address's.
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
#: wrong passwords for one account within WINDOW_MINUTES (from any addresses) that lock it
MAX_FAILED_LOGINS = 20
#: failed logins from one client address within WINDOW_MINUTES after which it is refused
ADDRESS_MAX_FAILURES = 10
WINDOW_MINUTES = 15
LOCK_MINUTES = 15
#: typed user names are kept (audit, lookup) up to this length
MAX_USERNAME_LENGTH = 64
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


def authenticate(
    conn, schema: str, username: str, password: str, client: str | None = None
) -> tuple[Staff | None, str]:
    """(staff, '') on success, else (None, reason): unknown | mismatch | locked | inactive | address_limited.

    Records the attempt in the audit trail (``login`` or ``login_failed`` with the name as typed,
    the reason code and `client`) in the caller's transaction, which the caller commits even on
    failure. Attempts are serialised per address and per name (advisory locks), so parallel
    guesses cannot slip past the counts. Every reason but ``address_limited`` costs the same:
    one argon2 verification and the same statements, whatever the name.
    """
    from mimamori.casescreen import audit

    s = sql.Identifier(schema)
    name = username[:MAX_USERNAME_LENGTH]
    window = timedelta(minutes=WINDOW_MINUTES)
    address = client or "unknown"

    def refuse(reason: str) -> tuple[None, str]:
        audit.record(conn, schema, "login_failed", username=name, detail={"reason_code": reason}, client=client)
        return None, reason

    # one lock order everywhere (address, then name): no deadlock between two attempts
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", ("mimamori-login-address:" + address,))
    if _address_failures(conn, s, address, window) >= ADDRESS_MAX_FAILURES:
        return refuse("address_limited")
    conn.execute("select pg_advisory_xact_lock(hashtext(%s))", ("mimamori-login-user:" + name,))
    row = conn.execute(
        sql.SQL(
            "select staff_id, username, display_name, role, password_hash, is_active, "
            "coalesce(locked_until > now(), false) from {}.staff_users where username = %s"
        ).format(s),
        (name,),
    ).fetchone()
    # exactly one verification whatever the case: a missing account costs what a wrong password costs
    matches = verify_password(row[4] if row else _DUMMY_HASH, password)
    recent = _account_failures(conn, s, name, window)
    if row is None:
        reason = "unknown"
    else:
        staff_id, uname, display, role, stored, active, locked = row
        reason = "locked" if locked else "mismatch" if not matches else "" if active and role in ROLES else "inactive"
    if reason:
        lock = reason == "mismatch" and recent + 1 >= MAX_FAILED_LOGINS
        # the same statement for every name (it changes no row for an unknown one)
        conn.execute(
            sql.SQL(
                "update {}.staff_users set failed_logins = failed_logins + %s, "
                "locked_until = case when %s then now() + make_interval(mins => %s) else locked_until end "
                "where username = %s"
            ).format(s),
            (1 if reason == "mismatch" else 0, lock, LOCK_MINUTES, name),
        )
        return refuse(reason)
    new_hash = hash_password(password) if _HASHER.check_needs_rehash(stored) else stored
    conn.execute(
        sql.SQL(
            "update {}.staff_users set failed_logins = 0, locked_until = null, last_login_at = now(), "
            "password_hash = %s where staff_id = %s"
        ).format(s),
        (new_hash, staff_id),
    )
    staff = Staff(staff_id, uname, display, role)
    audit.record(conn, schema, "login", staff=staff, client=client)
    return staff, ""


def _failures(conn, s: sql.Identifier, which: str, reset: str, params: dict, window: timedelta) -> int:
    """Failed logins matching `which` in the window, since the latest audit row matching `reset`."""
    return conn.execute(
        sql.SQL(
            "select count(*) from {s}.audit_log where action = 'login_failed' and " + which + " "
            "and logged_at > greatest(now() - %(w)s, coalesce((select max(logged_at) from {s}.audit_log "
            "where " + reset + "), '-infinity'))"
        ).format(s=s),
        {**params, "w": window},
    ).fetchone()[0]


def _address_failures(conn, s: sql.Identifier, address: str, window: timedelta) -> int:
    """Failed logins from `address` in the window, since its last ``unlock --address``."""
    reset = "action = 'unlock' and object_type = 'client_address' and object_id = %(a)s"
    return _failures(conn, s, "client = %(a)s", reset, {"a": address}, window)


def _account_failures(conn, s: sql.Identifier, name: str, window: timedelta) -> int:
    """Wrong passwords for `name` in the window, since its last successful login or unlock."""
    which = "username = %(u)s and detail ->> 'reason_code' = 'mismatch'"
    reset = "(action = 'login' and username = %(u)s) or (action = 'unlock' and object_type = 'staff_user' and object_id = %(u)s)"
    return _failures(conn, s, which, reset, {"u": name}, window)


def unlock(conn, schema: str, *, username: str | None = None, address: str | None = None, by: str) -> list[str]:
    """Lift an account lock and/or an address limit (audited as ``unlock``); returns what was lifted.

    Raises LookupError for an unknown user name.
    """
    from mimamori.casescreen import audit

    done = []
    if username:
        row = conn.execute(
            sql.SQL(
                "update {}.staff_users set failed_logins = 0, locked_until = null where username = %s returning 1"
            ).format(sql.Identifier(schema)),
            (username,),
        ).fetchone()
        if row is None:
            raise LookupError(username)
        audit.record(conn, schema, "unlock", username=by, object_type="staff_user", object_id=username, client="cli")
        done.append(f"user {username}")
    if address:
        audit.record(conn, schema, "unlock", username=by, object_type="client_address", object_id=address, client="cli")
        done.append(f"address {address}")
    return done


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
