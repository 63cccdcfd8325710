"""The case screen's configuration: which schemas it reads and writes, session lifetimes.

Everything comes from :mod:`mimamori.settings` (``MIMAMORI_CASESCREEN_*`` in the environment or
``.env``, with defaults for the local stack), as do database addresses and role passwords.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from mimamori.settings import Settings, get_settings

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def _ident(value: str, what: str) -> str:
    if not _IDENT.match(value):
        raise ValueError(f"{what} must be a plain lower-case SQL identifier, got {value!r}")
    return value


@dataclass(frozen=True)
class CaseScreenConfig:
    settings: Settings
    #: the published judgement the screen reads (the latest published month)
    published_schema: str = "published"
    #: per-month copies of the judgement marts (score history)
    history_schema: str = "history"
    #: where the screen writes: outcomes, hand entries, identity decisions, staff, sessions, audit
    casework_schema: str = "casework"
    #: database login of the application before anyone is known (accounts, sessions, audit only);
    #: each signed-in page runs as the login of the staff member's audience (:meth:`audience_dsn`)
    app_role: str = "casework"
    #: database role that creates the screen's tables (init-db)
    owner_role: str = "transformer"
    idle_minutes: int = 30
    absolute_hours: int = 10
    #: key for the pre-login CSRF token; a per-process random key unless set
    secret_key: str = ""
    cookie_secure: bool = False
    host: str = "127.0.0.1"

    @property
    def port(self) -> int:
        return self.settings.casescreen_port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def dsn(self, role: str | None = None) -> str:
        return self.settings.dsn(self.settings.warehouse_db, role=role or self.app_role)

    def audience_dsn(self, app_role: str) -> str:
        """The connection of a signed-in staff member: their audience's case-screen login."""
        from mimamori import access

        login = access.declaration().audience_of(app_role).casescreen_login
        if not login:
            raise PermissionError(f"role {app_role!r} has no case-screen login in the audience declaration")
        return self.dsn(login)


def load_config(settings: Settings | None = None, **overrides) -> CaseScreenConfig:
    settings = settings or get_settings()
    values = dict(
        settings=settings,
        published_schema=_ident(settings.casescreen_schema, "MIMAMORI_CASESCREEN_SCHEMA"),
        history_schema=_ident(settings.casescreen_history_schema, "MIMAMORI_CASESCREEN_HISTORY_SCHEMA"),
        casework_schema=_ident(settings.casescreen_casework_schema, "MIMAMORI_CASESCREEN_CASEWORK_SCHEMA"),
        idle_minutes=settings.casescreen_idle_minutes,
        absolute_hours=settings.casescreen_absolute_hours,
        secret_key=settings.casescreen_secret or secrets.token_urlsafe(32),
        cookie_secure=settings.casescreen_cookie_secure,
    )
    values.update(overrides)
    for key in ("published_schema", "history_schema", "casework_schema"):
        _ident(values[key], key)
    return CaseScreenConfig(**values)


def env_for_process(config: CaseScreenConfig) -> dict[str, str]:
    """The MIMAMORI_CASESCREEN_* variables that reproduce `config` in a child process."""
    return {
        "MIMAMORI_CASESCREEN_SCHEMA": config.published_schema,
        "MIMAMORI_CASESCREEN_HISTORY_SCHEMA": config.history_schema,
        "MIMAMORI_CASESCREEN_CASEWORK_SCHEMA": config.casework_schema,
        "MIMAMORI_CASESCREEN_IDLE_MINUTES": str(config.idle_minutes),
        "MIMAMORI_CASESCREEN_ABSOLUTE_HOURS": str(config.absolute_hours),
    }
