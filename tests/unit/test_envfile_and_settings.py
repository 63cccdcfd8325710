import os
from pathlib import Path

from mimamori.stack.envfile import PLACEHOLDER, ensure_env, render


def test_render_fills_every_placeholder_with_distinct_secrets():
    text = render("A=<generate>\nB=<generate>   # comment\nC=keep\n# D=<generate>\n")
    values = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert PLACEHOLDER not in values["A"] and PLACEHOLDER not in values["B"]
    assert values["A"] != values["B"] and len(values["A"]) >= 24
    assert values["C"] == "keep"
    assert "# D=<generate>" in text  # comments stay comments


def test_ensure_env_never_overwrites(tmp_path: Path):
    (tmp_path / ".env.example").write_text("X=<generate>\n")
    assert ensure_env(tmp_path) is True
    first = (tmp_path / ".env").read_text()
    assert ensure_env(tmp_path) is False
    assert (tmp_path / ".env").read_text() == first
    assert oct((tmp_path / ".env").stat().st_mode & 0o777) == "0o600"


def test_ensure_env_appends_secrets_a_newer_example_adds(tmp_path: Path):
    (tmp_path / ".env.example").write_text("X=<generate>\n")
    ensure_env(tmp_path)
    (tmp_path / ".env.example").write_text("X=<generate>\nY=<generate>\nZ=plain\n")
    assert ensure_env(tmp_path) is True
    values = dict(line.split("=", 1) for line in (tmp_path / ".env").read_text().splitlines())
    assert set(values) == {"X", "Y"} and len(values["Y"]) >= 24
    assert ensure_env(tmp_path) is False


def test_the_example_env_holds_no_secret():
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    for line in example.splitlines():
        if "PASSWORD=" in line or "SECRET" in line.split("=")[0]:
            assert PLACEHOLDER in line or line.lstrip().startswith("#"), line


def test_settings_read_the_environment_first(settings):
    assert settings.pg_port == int(os.environ["MIMAMORI_PG_PORT"])
    assert settings.state_dir.name == "test"
    assert settings.dsn(role="loader").startswith("postgresql://loader:")


def test_admin_passwords_fall_back_to_the_shared_one_of_an_older_env(tmp_path: Path, monkeypatch):
    from mimamori.settings import get_settings

    (tmp_path / ".env").write_text("MIMAMORI_ADMIN_PASSWORD=old-shared\nMIMAMORI_SUPERSET_ADMIN_PASSWORD=own\n")
    for key in [k for k in os.environ if k.startswith("MIMAMORI_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("MIMAMORI_ROOT", str(tmp_path))
    get_settings.cache_clear()
    try:
        settings = get_settings()
        assert settings.superset_admin_password == "own"
        assert settings.airflow_admin_password == settings.casescreen_admin_password == "old-shared"
    finally:
        get_settings.cache_clear()


def test_dotenv_values_drop_inline_comments(tmp_path: Path):
    from mimamori.settings import _read_dotenv

    (tmp_path / ".env").write_text(
        "A=18081   # a port\nB='x # not a comment'\nC=pass#word\n# D=1\nE=\"q\"\n", encoding="utf-8"
    )
    assert _read_dotenv(tmp_path / ".env") == {"A": "18081", "B": "x # not a comment", "C": "pass#word", "E": "q"}


def test_the_example_env_gives_valid_settings(tmp_path: Path, monkeypatch):
    """Every setting parses from a fresh .env (the demo reads it without the suite's overrides)."""
    from mimamori.settings import get_settings

    root = Path(__file__).resolve().parents[2]
    (tmp_path / ".env.example").write_text((root / ".env.example").read_text(encoding="utf-8"), encoding="utf-8")
    ensure_env(tmp_path)
    for key in [k for k in os.environ if k.startswith("MIMAMORI_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("MIMAMORI_ROOT", str(tmp_path))
    get_settings.cache_clear()
    try:
        settings = get_settings()
        assert settings.docs_port == 18081 and settings.pg_port == 54329 and settings.casescreen_port == 18090
        assert len(settings.pseudo_key) >= 24
        # one login password per service, none shared (issue #17)
        admins = {settings.airflow_admin_password, settings.superset_admin_password, settings.casescreen_admin_password}
        assert len(admins) == 3 and all(len(p) >= 24 for p in admins)
    finally:
        get_settings.cache_clear()
