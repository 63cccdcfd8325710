"""Create `.env` from `.env.example` on first run, with fresh random secrets."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

PLACEHOLDER = "<generate>"


def render(example: str) -> str:
    lines = []
    for line in example.splitlines():
        match = re.match(r"^([A-Z0-9_]+)=(\S*)(.*)$", line)
        if match and match.group(2) == PLACEHOLDER:
            line = f"{match.group(1)}={secrets.token_urlsafe(24)}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def ensure_env(root: Path) -> bool:
    """Write root/.env if absent; returns True when a new file was written."""
    target = root / ".env"
    if target.exists():
        return False
    target.write_text(render((root / ".env.example").read_text(encoding="utf-8")), encoding="utf-8")
    target.chmod(0o600)
    return True
