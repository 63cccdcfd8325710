"""The one place that reads configuration from the environment.

Every value has a default that works for the local stack; a `.env` file at the
repository root (generated on first run from `.env.example`) is read first, and
real environment variables win over it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

#: Service roles of the local cluster (the pipeline and the services' metadata databases); each has
#: MIMAMORI_<ROLE>_PASSWORD in .env. The audiences' roles come from the audience declaration
#: (mimamori.access), whose logins have their passwords in .env the same way.
ROLES = ("loader", "transformer", "airflow", "superset")
_PASSWORD_KEY = re.compile(r"^MIMAMORI_([A-Z0-9_]+)_PASSWORD$")


def _read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            # As in dotenv: an unquoted value ends where a whitespace-preceded "#" starts a comment.
            value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
        values[key.strip()] = value
    return values


@dataclass(frozen=True)
class Settings:
    """Resolved configuration; build it with :func:`get_settings`."""

    root: Path
    state_dir: Path
    inbox_dir: Path
    quarantine_dir: Path
    mail_dir: Path
    artifacts_dir: Path
    pg_host: str
    pg_port: int
    pg_superuser: str
    pg_password: str = field(repr=False)
    warehouse_db: str
    airflow_db: str
    superset_db: str
    warehouse_dsn_override: str | None = field(repr=False)
    airflow_port: int
    superset_port: int
    casescreen_port: int
    docs_port: int
    smtp_port: int
    mail_from: str
    it_email: str
    #: one login password per web service (user "admin"); MIMAMORI_ADMIN_PASSWORD is the fallback
    #: an older .env had for all three. Secrets never appear in a repr (a failing test prints its
    #: fixtures' values).
    airflow_admin_password: str = field(repr=False)
    superset_admin_password: str = field(repr=False)
    casescreen_admin_password: str = field(repr=False)
    superset_secret_key: str = field(repr=False)
    airflow_secret_key: str = field(repr=False)
    pseudo_key: str = field(repr=False)
    role_passwords: dict[str, str] = field(default_factory=dict, repr=False)
    # Airflow's log servers (serve-logs of the LocalExecutor, Airflow's 8793; the triggerer's,
    # 8794), bound to 127.0.0.1 on ports of the project's scheme (docs/manual-it.md).
    airflow_log_port: int = 18793
    airflow_trigger_log_port: int = 18794
    # Ingestion limits (docs/ingestion.md): beyond one, a file is rejected with the rule id named.
    ingest_max_file_bytes: int = 1 << 30  # file_too_large
    ingest_max_rows: int = 5_000_000  # too_many_rows
    ingest_max_line_bytes: int = 64 * 1024  # line_too_long (one physical line of a CSV)
    ingest_max_field_chars: int = 4096  # field_too_large (one CSV field or xlsx cell)
    #: where people reach the docs site (MIMAMORI_DOCS_BASE_URL): every link in the owner and IT
    #: mails starts with it. Empty: the local site, http://127.0.0.1:<docs_port> (this machine only).
    docs_base_url: str = ""
    #: the docs site's listen address (MIMAMORI_DOCS_BIND): 127.0.0.1, or the address the base URL
    #: reaches when no reverse proxy stands in front (the pages hold counts only: docs/quality.md)
    docs_bind: str = "127.0.0.1"
    #: when the scheduler runs the monthly DAG (cron, UTC; docs/manual-it.md §1). The suite sets a
    #: short one for the DAG processor to see the scheduler make a run by itself (tests/airflow).
    monthly_schedule: str = "0 6 16 * *"

    @property
    def pg_dir(self) -> Path:
        return self.state_dir / "pg"

    def dsn(self, db: str | None = None, role: str | None = None) -> str:
        """A libpq URI for `db` as `role` (default: the superuser of the local cluster)."""
        if self.warehouse_dsn_override and (db in (None, self.warehouse_db)) and role is None:
            return self.warehouse_dsn_override
        user = role or self.pg_superuser
        password = self.role_passwords.get(user, self.pg_password) if role else self.pg_password
        auth = f"{user}:{password}@" if password else f"{user}@"
        return f"postgresql://{auth}{self.pg_host}:{self.pg_port}/{db or self.warehouse_db}"

    @property
    def docs_url(self) -> str:
        """The docs site as people reach it (GX data docs under /gx/, dbt docs under /dbt/)."""
        return self.docs_base_url.rstrip("/") or f"http://127.0.0.1:{self.docs_port}"

    @property
    def gx_docs_url(self) -> str:
        return f"{self.docs_url}/gx"

    @property
    def warehouse_dsn(self) -> str:
        return self.dsn(self.warehouse_db)


def _env(values: dict[str, str], key: str, default: str) -> str:
    return os.environ.get(key, values.get(key, default))


def _admin_password(values: dict[str, str], service: str) -> str:
    return _env(values, f"MIMAMORI_{service}_ADMIN_PASSWORD", "") or _env(values, "MIMAMORI_ADMIN_PASSWORD", "")


def _docs_base_url(value: str) -> str:
    value = value.strip().rstrip("/")
    if value and not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(
            f"MIMAMORI_DOCS_BASE_URL must be an http(s) URL such as https://docs.town.example, got {value!r}"
        )
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    root = Path(os.environ.get("MIMAMORI_ROOT", REPO_ROOT)).resolve()
    values = _read_dotenv(root / ".env")
    state = Path(_env(values, "MIMAMORI_STATE_DIR", str(root / ".local"))).resolve()
    # every MIMAMORI_<ROLE>_PASSWORD of .env and the environment, by lower-case role name
    roles = {name: "" for name in ROLES}
    for key in {*values, *os.environ}:
        found = _PASSWORD_KEY.match(key)
        if found:
            roles[found.group(1).lower()] = _env(values, key, "")
    return Settings(
        root=root,
        state_dir=state,
        inbox_dir=Path(_env(values, "MIMAMORI_INBOX", str(state / "town" / "inbox"))).resolve(),
        quarantine_dir=Path(_env(values, "MIMAMORI_QUARANTINE", str(state / "quarantine"))).resolve(),
        mail_dir=Path(_env(values, "MIMAMORI_MAIL_DIR", str(state / "mail"))).resolve(),
        artifacts_dir=Path(_env(values, "MIMAMORI_ARTIFACTS", str(state / "artifacts"))).resolve(),
        pg_host=_env(values, "MIMAMORI_PG_HOST", "127.0.0.1"),
        pg_port=int(_env(values, "MIMAMORI_PG_PORT", "54329")),
        pg_superuser=_env(values, "MIMAMORI_PG_SUPERUSER", "mimamori"),
        pg_password=_env(values, "MIMAMORI_PG_PASSWORD", ""),
        warehouse_db=_env(values, "MIMAMORI_WAREHOUSE_DB", "warehouse"),
        airflow_db=_env(values, "MIMAMORI_AIRFLOW_DB", "airflow"),
        superset_db=_env(values, "MIMAMORI_SUPERSET_DB", "superset"),
        warehouse_dsn_override=_env(values, "MIMAMORI_WAREHOUSE_DSN", "") or None,
        airflow_port=int(_env(values, "MIMAMORI_AIRFLOW_PORT", "18080")),
        superset_port=int(_env(values, "MIMAMORI_SUPERSET_PORT", "18088")),
        casescreen_port=int(_env(values, "MIMAMORI_CASESCREEN_PORT", "18090")),
        docs_port=int(_env(values, "MIMAMORI_DOCS_PORT", "18081")),
        smtp_port=int(_env(values, "MIMAMORI_SMTP_PORT", "18025")),
        mail_from=_env(values, "MIMAMORI_MAIL_FROM", "mimamori@kaisei-town.example"),
        it_email=_env(values, "MIMAMORI_IT_EMAIL", "joho-system@kaisei-town.example"),
        airflow_admin_password=_admin_password(values, "AIRFLOW"),
        superset_admin_password=_admin_password(values, "SUPERSET"),
        casescreen_admin_password=_admin_password(values, "CASESCREEN"),
        superset_secret_key=_env(values, "SUPERSET_SECRET_KEY", ""),
        airflow_secret_key=_env(values, "AIRFLOW__API__SECRET_KEY", ""),
        pseudo_key=_env(values, "MIMAMORI_PSEUDO_KEY", ""),
        role_passwords=roles,
        airflow_log_port=int(_env(values, "MIMAMORI_AIRFLOW_LOG_PORT", "18793")),
        airflow_trigger_log_port=int(_env(values, "MIMAMORI_AIRFLOW_TRIGGER_LOG_PORT", "18794")),
        ingest_max_file_bytes=int(_env(values, "MIMAMORI_INGEST_MAX_FILE_BYTES", str(1 << 30))),
        ingest_max_rows=int(_env(values, "MIMAMORI_INGEST_MAX_ROWS", "5000000")),
        ingest_max_line_bytes=int(_env(values, "MIMAMORI_INGEST_MAX_LINE_BYTES", str(64 * 1024))),
        ingest_max_field_chars=int(_env(values, "MIMAMORI_INGEST_MAX_FIELD_CHARS", "4096")),
        docs_base_url=_docs_base_url(_env(values, "MIMAMORI_DOCS_BASE_URL", "")),
        docs_bind=_env(values, "MIMAMORI_DOCS_BIND", "127.0.0.1"),
        monthly_schedule=_env(values, "MIMAMORI_MONTHLY_SCHEDULE", "0 6 16 * *"),
    )
