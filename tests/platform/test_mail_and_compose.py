"""Mail through Airflow's SMTP connection into the catcher; the compose file under Compose v2."""

import re
import uuid

from mimamori.stack.compose import config_check
from mimamori.stack.mailcatcher import read_messages


def test_mail_through_airflows_smtp_connection_lands_in_the_catcher(airflow_ready, mailcatcher):
    from mimamori.mail import send_mail

    marker = f"probe-{uuid.uuid4().hex[:8]}"
    send_mail(["owner@kaisei-town.example"], f"[mimamori] 試験送信 {marker}", "<p>テスト</p>")
    found = [m for m in read_messages(mailcatcher) if marker in str(m["Subject"])]
    assert len(found) == 1
    message = found[0]
    assert message["X-Envelope-To"] == "owner@kaisei-town.example"
    assert str(message["From"]) == airflow_ready.mail_from
    assert "試験送信" in str(message["Subject"])


def test_compose_file_is_valid_for_docker_compose_v2(settings):
    result = config_check(settings.root / "docker-compose.yml", settings.root / ".env.example")
    assert result.returncode == 0, result.stderr


def test_compose_validation_fails_on_a_wrong_type_or_a_missing_password(settings, tmp_path):
    text = (settings.root / "docker-compose.yml").read_text()
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(text.replace('"127.0.0.1:8080:8080"', "{not: a port}"))
    bad_type = config_check(broken, settings.root / ".env.example")
    assert bad_type.returncode != 0
    broken.write_text(text)
    # compose names the first required variable it misses, in no fixed order: leave out one at a time
    required = sorted(set(re.findall(r"\$\{([A-Z0-9_]+):\?", text)))
    assert any(name.startswith("MIMAMORI_") and name.endswith("_PASSWORD") for name in required), required
    example = (settings.root / ".env.example").read_text().splitlines()
    for name in required:
        env = tmp_path / f"without-{name}.env"
        env.write_text("\n".join(line for line in example if not line.startswith(f"{name}=")) + "\n")
        missing = config_check(broken, env)
        assert missing.returncode != 0, name
        assert name in missing.stderr, (name, missing.stderr)
