"""The Superset dashboards as code: import the asset bundle, provision roles, users and RLS.

``superset/assets/`` is an official Superset asset bundle (``metadata.yaml`` of type ``assets``,
``databases/``, ``datasets/``, ``charts/``, ``dashboards/``, stable uuids). :func:`import_bundle`
renders it for this machine and posts it to ``POST /api/v1/assets/import/`` as admin: Superset
imports the whole bundle atomically and overwrites by uuid, so importing again changes nothing.
Rendering fills in what differs per machine and must never be committed:

- each database's host, port, database name and password (``settings.role_passwords``: both
  connections store the login ``dashboard``, which reads nothing; superset_config's
  ``DB_CONNECTION_MUTATOR`` runs every query as the logged-in user's audience login, whose grants
  and row-level security in PostgreSQL decide what any SQL can read — docs/security.md);
- the case screen's URL in the per-type detail (``__CASESCREEN_URL__``);
- optionally other schema names (tests point the bundle at fixture schemas).

:func:`provision_roles` then creates, over REST (roles and RLS are not part of bundles):

======================  ===========================================================  ===========
Superset role           sees                                                         RLS
======================  ===========================================================  ===========
``mimamori_coordinator``  every dashboard (overview, per type, evaluation, pseudonymised)  —
``mimamori_caseworker``   overview and per-type detail: every child in scope, with names   —
``mimamori_nurse``        same as caseworker                                               —
``mimamori_school_board`` overview and per-type detail, only children on this month's      ``is_on_school_register``
                          学齢簿
``mimamori_analyst``      the pseudonymised dashboard only (no names, no addresses, no area) —
======================  ===========================================================  ===========

Every user also has Superset's built-in ``Gamma`` (the app without any data); none has SQL Lab.
No dataset has an address column, so no chart or export can show one (支援措置 included).

Users (one per role): ``coordinator``, ``caseworker``, ``nurse``, ``school_board``, ``analyst``.
Password: ``MIMAMORI_SUPERSET_<USER>_PASSWORD`` (environment or ``.env``), one generated secret
per user (``make env`` adds any an older ``.env`` lacks; see :func:`user_password`).

CLI: ``python -m mimamori.superset_assets import|roles|all|check`` (Superset must be running).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import yaml

from mimamori.settings import Settings, get_settings


def superset_role(role: str) -> str:
    """The Superset role of an application role, as the audience declaration names it
    (``mimamori_<role>``: apart from Superset's own Admin, Gamma …). Its queries run as the
    PostgreSQL login of the role's audience (superset_config.DB_CONNECTION_MUTATOR)."""
    from mimamori import access

    app_role = access.declaration().app_roles.get(role)
    if app_role is None or not app_role.superset_role:
        raise SupersetApiError(f"role {role!r} has no Superset role in dbt_project/seeds/access/audience_app_roles.csv")
    return app_role.superset_role


#: user name → (role, display first name, last name)
USERS: dict[str, tuple[str, str, str]] = {
    "coordinator": ("coordinator", "総括管理", "こども支援班"),
    "caseworker": ("caseworker", "ケースワーカー", "こども課"),
    "nurse": ("nurse", "保健師", "こども家庭班"),
    "school_board": ("school_board", "教育委員会", "学校教育課"),
    "analyst": ("analyst", "分析主体", "外部"),
}
#: Dataset table names (as in the bundle) each role may read.
STAFF_CHILD_DATASETS = ("dashboard_child_types", "mimamori_type_items")
EVALUATION_DATASETS = (
    "conference_funnel",
    "dashboard_item_relevance",
    "threshold_sensitivity",
    "dashboard_flag_disparity",
    "outcome_yield",
)
PSEUDO_DATASETS = ("pseudo_child_scores", "pseudo_child_type_scores")
ROLE_DATASETS: dict[str, tuple[str, ...]] = {
    "coordinator": STAFF_CHILD_DATASETS + EVALUATION_DATASETS + PSEUDO_DATASETS,
    "caseworker": STAFF_CHILD_DATASETS,
    "nurse": STAFF_CHILD_DATASETS,
    "school_board": STAFF_CHILD_DATASETS,
    "analyst": PSEUDO_DATASETS,
}
#: Row-level security: the school board sees only children on this month's 学齢簿.
RLS_FILTERS = {
    "mimamori: 学齢簿のこどものみ": {
        "roles": ("school_board",),
        "tables": STAFF_CHILD_DATASETS,
        "clause": "is_on_school_register",
        "group_key": "school_register",
        "description": "教育委員会は今月の学齢簿に載っているこどもだけを見る（domain.md §1）",
    }
}
#: Database YAML → the stored login of the connection: the one that reads nothing. Every query is
#: switched to the logged-in user's audience login by superset_config.DB_CONNECTION_MUTATOR.
DATABASE_ROLES = {"databases/warehouse.yaml": "dashboard", "databases/pseudo.yaml": "dashboard"}
CASESCREEN_PLACEHOLDER = "__CASESCREEN_URL__"
SCHEMAS = ("published", "published_pseudo", "history")


class SupersetApiError(RuntimeError):
    pass


def bundle_dir(settings: Settings) -> Path:
    return settings.root / "superset" / "assets"


def user_password(settings: Settings, user: str) -> str:
    """``MIMAMORI_SUPERSET_<USER>_PASSWORD`` (environment, else ``.env``): one secret per user.

    Until issue #17 these were derived from the shared admin password, so knowing one login
    gave all of them; now each is generated on its own by ``make env``.
    """
    key = f"MIMAMORI_SUPERSET_{user.upper()}_PASSWORD"
    password = settings.superset_user_passwords.get(user.lower(), "")
    if not password:
        raise RuntimeError(f"{key} is empty: run `make env` to add it to .env")
    return password


def casescreen_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.casescreen_port}"


# --- the bundle -------------------------------------------------------------------------------------


def _rename_schemas(text: str, schemas: dict[str, str]) -> str:
    if not schemas:
        return text
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(schemas, key=len, reverse=True))) + r")\.")
    return pattern.sub(lambda m: schemas[m.group(1)] + ".", text)


def render_bundle(settings: Settings, schemas: dict[str, str] | None = None) -> dict[str, str]:
    """The bundle's files (path relative to the bundle → YAML text) as this machine needs them.

    Passwords stay masked here; they travel separately (:func:`database_passwords`).
    ``schemas`` maps the committed schema names (``published``, ``published_pseudo``,
    ``history``) to others, for tests on fixture schemas.
    """
    schemas = {k: v for k, v in (schemas or {}).items() if k != v}
    unknown = set(schemas) - set(SCHEMAS)
    if unknown:
        raise ValueError(f"unknown schema(s) to rename: {sorted(unknown)}")
    root = bundle_dir(settings)
    files: dict[str, str] = {}
    for path in sorted(root.rglob("*.yaml")):
        rel = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        if rel.startswith("databases/"):
            doc = yaml.safe_load(text)
            role = DATABASE_ROLES[rel]
            doc["sqlalchemy_uri"] = (
                f"postgresql+psycopg2://{role}:XXXXXXXXXX@{settings.pg_host}:{settings.pg_port}/"
                f"{quote(settings.warehouse_db, safe='')}"
            )
            text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
        elif rel.startswith("datasets/"):
            doc = yaml.safe_load(text)
            if doc.get("schema") in schemas:
                doc["schema"] = schemas[doc["schema"]]
            if doc.get("sql"):
                doc["sql"] = _rename_schemas(doc["sql"], schemas).replace(
                    CASESCREEN_PLACEHOLDER, casescreen_url(settings)
                )
            text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=1000)
        files[rel] = text
    if "metadata.yaml" not in files:
        raise FileNotFoundError(f"{root}/metadata.yaml missing: not an asset bundle")
    return files


def database_passwords(settings: Settings) -> dict[str, str]:
    missing = [role for role in DATABASE_ROLES.values() if not settings.role_passwords.get(role)]
    if missing:
        raise RuntimeError(f"no password for database role(s) {missing}: run `make env` to generate .env")
    return {path: settings.role_passwords[role] for path, role in DATABASE_ROLES.items()}


def bundle_zip(files: dict[str, str], root: str = "mimamori_assets") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, text in sorted(files.items()):
            info = zipfile.ZipInfo(f"{root}/{rel}", date_time=(2026, 1, 1, 0, 0, 0))
            zf.writestr(info, text.encode("utf-8"))
    return buf.getvalue()


# --- REST -------------------------------------------------------------------------------------------


@dataclass
class Api:
    """A logged-in session on Superset's REST API (JWT + CSRF)."""

    base: str
    session: object = field(repr=False)

    @classmethod
    def login(cls, base: str, user: str, password: str, timeout: float = 30) -> Api:
        import requests

        s = requests.Session()
        r = s.post(
            f"{base}/api/v1/security/login",
            json={"username": user, "password": password, "provider": "db", "refresh": True},
            timeout=timeout,
        )
        if r.status_code != 200:
            raise SupersetApiError(f"login as {user!r} failed: HTTP {r.status_code}")
        s.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        r = s.get(f"{base}/api/v1/security/csrf_token/", timeout=timeout)
        r.raise_for_status()
        s.headers["X-CSRFToken"] = r.json()["result"]
        s.headers["Referer"] = base
        return cls(base, s)

    def call(self, method: str, path: str, ok=(200, 201), **kwargs):
        kwargs.setdefault("timeout", 120)
        r = self.session.request(method, f"{self.base}{path}", **kwargs)
        if r.status_code not in ok:
            raise SupersetApiError(f"{method} {path}: HTTP {r.status_code}: {r.text[:1500]}")
        return r

    def get_json(self, path: str, **kwargs):
        return self.call("GET", path, **kwargs).json()

    def list_all(self, path: str, columns: tuple[str, ...] = ()) -> list[dict]:
        """Every row of a FAB list endpoint (pages of 100)."""
        rows, page = [], 0
        while True:
            cols = f",columns:!({','.join(columns)})" if columns else ""
            result = self.get_json(path, params={"q": f"(page:{page},page_size:100{cols})"})["result"]
            rows += result
            if len(result) < 100:
                return rows
            page += 1


def admin_api(settings: Settings) -> Api:
    from mimamori.stack import superset as ss

    return Api.login(ss.url(settings), ss.ADMIN_USER, settings.superset_admin_password)


def import_bundle(settings: Settings, schemas: dict[str, str] | None = None, api: Api | None = None) -> dict:
    """Import ``superset/assets`` into the running Superset (atomic; overwrites by uuid).

    Returns counts per asset kind. Idempotent: a second import leaves every object as it was
    (:func:`export_snapshot` before and after compare equal).
    """
    started = time.monotonic()
    api = api or admin_api(settings)
    files = render_bundle(settings, schemas)
    api.call(
        "POST",
        "/api/v1/assets/import/",
        files={"bundle": ("mimamori_assets.zip", bundle_zip(files), "application/zip")},
        data={"passwords": json.dumps(database_passwords(settings))},
        timeout=300,
    )
    kinds: dict[str, int] = {}
    kinds["filter_scopes"] = _scope_native_filters(api, files)
    for rel in files:
        kind = rel.split("/", 1)[0] if "/" in rel else "metadata"
        kinds[kind] = kinds.get(kind, 0) + 1
    kinds["seconds"] = round(time.monotonic() - started, 1)
    return kinds


def _scope_native_filters(api: Api, files: dict[str, str]) -> int:
    """Put every chart of each imported dashboard in its native filters' scope.

    Superset 6.1's frontend applies a native filter only to the chart ids listed in the filter's
    ``chartsInScope``; the import does not translate those ids (they differ per installation), so
    the bundle leaves them out and they are set here from the dashboard's own layout. Returns the
    number of dashboards updated (0 on a repeated import whose scopes are already right).
    """
    changed = 0
    for rel, text in files.items():
        if not rel.startswith("dashboards/"):
            continue
        slug = yaml.safe_load(text)["slug"]
        dash = api.get_json(f"/api/v1/dashboard/{slug}")["result"]
        metadata = json.loads(dash.get("json_metadata") or "{}")
        position = json.loads(dash.get("position_json") or "{}")
        chart_ids = sorted(
            node["meta"]["chartId"]
            for node in position.values()
            if isinstance(node, dict) and node.get("type") == "CHART" and node.get("meta", {}).get("chartId")
        )
        filters = metadata.get("native_filter_configuration") or []
        if all(f.get("chartsInScope") == chart_ids for f in filters):
            continue
        for native_filter in filters:
            excluded = set(native_filter.get("scope", {}).get("excluded", []))
            native_filter["chartsInScope"] = [c for c in chart_ids if c not in excluded]
            native_filter["tabsInScope"] = []
        api.call("PUT", f"/api/v1/dashboard/{dash['id']}", json={"json_metadata": json.dumps(metadata)})
        changed += 1
    return changed


def export_snapshot(api: Api) -> dict[str, object]:
    """Everything Superset holds for our bundle, as comparable data (export minus timestamps)."""
    r = api.call("GET", "/api/v1/assets/export/", timeout=300)
    snap: dict[str, object] = {}
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        for name in zf.namelist():
            rel = "/".join(name.split("/")[1:])
            if rel == "metadata.yaml" or not rel.endswith(".yaml"):
                continue
            snap[rel] = yaml.safe_load(zf.read(name))
    return snap


# --- roles, users, RLS -------------------------------------------------------------------------------


def _datasets_by_name(api: Api) -> dict[str, dict]:
    rows = api.list_all("/api/v1/dataset/", ("id", "table_name", "uuid"))
    return {row["table_name"]: row for row in rows}


def _permission_views(api: Api) -> list[dict]:
    return api.list_all("/api/v1/security/permissions-resources/")


def _ensure_role(api: Api, name: str, roles: dict[str, int]) -> int:
    if name in roles:
        return roles[name]
    rid = api.call("POST", "/api/v1/security/roles/", json={"name": name}).json()["id"]
    roles[name] = rid
    return rid


def provision_roles(settings: Settings, api: Api | None = None) -> dict:
    """Roles with dataset access, one user per role, the school board's RLS (idempotent)."""
    api = api or admin_api(settings)
    datasets = _datasets_by_name(api)
    missing = sorted({n for names in ROLE_DATASETS.values() for n in names} - set(datasets))
    if missing:
        raise SupersetApiError(f"datasets missing in Superset (import the bundle first): {missing}")
    pvs = _permission_views(api)
    access: dict[int, int] = {}  # dataset id -> permission-view id of datasource_access
    for pv in pvs:
        if pv["permission"]["name"] != "datasource_access":
            continue
        found = re.search(r"\(id:(\d+)\)$", pv["view_menu"]["name"])
        if found:
            access[int(found.group(1))] = pv["id"]
    roles = {r["name"]: r["id"] for r in api.list_all("/api/v1/security/roles/")}
    summary: dict[str, object] = {"roles": {}, "users": [], "rls": []}
    for role, names in ROLE_DATASETS.items():
        rid = _ensure_role(api, superset_role(role), roles)
        ids = []
        for name in names:
            pv = access.get(datasets[name]["id"])
            if pv is None:
                raise SupersetApiError(f"no datasource_access permission for dataset {name}")
            ids.append(pv)
        # POST replaces the role's whole permission list: exactly these datasets, nothing else
        api.call("POST", f"/api/v1/security/roles/{rid}/permissions", json={"permission_view_menu_ids": sorted(ids)})
        summary["roles"][superset_role(role)] = list(names)
    # the login page in Japanese: anonymous visitors may fetch the language pack, and nothing else
    public = roles.get("Public")
    pack = next(
        (
            pv["id"]
            for pv in pvs
            if pv["permission"]["name"] == "can_language_pack" and pv["view_menu"]["name"] == "Superset"
        ),
        None,
    )
    if public is not None and pack is not None:
        api.call("POST", f"/api/v1/security/roles/{public}/permissions", json={"permission_view_menu_ids": [pack]})
    gamma = roles["Gamma"]
    users = {u["username"]: u for u in api.list_all("/api/v1/security/users/", ("id", "username"))}
    domain = settings.mail_from.partition("@")[2] or "localhost"
    for user, (role, first, last) in USERS.items():
        body = {
            "first_name": first,
            "last_name": last,
            "email": f"superset-{user.replace('_', '-')}@{domain}",
            "active": True,
            "roles": [gamma, roles[superset_role(role)]],
            "password": user_password(settings, user),
        }
        if user in users:
            api.call("PUT", f"/api/v1/security/users/{users[user]['id']}", json=body)
        else:
            api.call("POST", "/api/v1/security/users/", json={"username": user, **body})
        summary["users"].append(user)
    existing = {r["name"]: r for r in api.list_all("/api/v1/rowlevelsecurity/", ("id", "name"))}
    for name, rule in RLS_FILTERS.items():
        body = {
            "name": name,
            "filter_type": "Regular",
            "tables": sorted(datasets[t]["id"] for t in rule["tables"]),
            "roles": sorted(roles[superset_role(r)] for r in rule["roles"]),
            "clause": rule["clause"],
            "group_key": rule["group_key"],
            "description": rule["description"],
        }
        if name in existing:
            api.call("PUT", f"/api/v1/rowlevelsecurity/{existing[name]['id']}", json=body)
        else:
            api.call("POST", "/api/v1/rowlevelsecurity/", json=body)
        summary["rls"].append(name)
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Superset dashboards as code: import the bundle, provision roles")
    parser.add_argument("command", choices=["import", "roles", "all", "check"])
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.command == "check":  # render only: catches YAML errors without a server
        files = render_bundle(settings)
        print(f"bundle ok: {len(files)} files")
        return
    api = admin_api(settings)
    if args.command in ("import", "all"):
        print("superset assets:", json.dumps(import_bundle(settings, api=api), ensure_ascii=False))
    if args.command in ("roles", "all"):
        summary = provision_roles(settings, api=api)
        print("superset roles:", ", ".join(summary["roles"]), "| users:", ", ".join(summary["users"]))


if __name__ == "__main__":
    try:
        main()
    except SupersetApiError as exc:
        print(f"superset_assets: {exc}", file=sys.stderr)
        sys.exit(1)
