"""Create `.env` from `.env.example` on first run, with fresh random secrets.

An existing `.env` is never overwritten; a secret that a newer `.env.example` introduced and
the file lacks is appended (so an upgrade does not leave, say, the pseudonym key empty).
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

PLACEHOLDER = "<generate>"
_ASSIGN = re.compile(r"^([A-Z0-9_]+)=(\S*)(.*)$")


def render(example: str) -> str:
    lines = []
    for line in example.splitlines():
        match = _ASSIGN.match(line)
        if match and match.group(2) == PLACEHOLDER:
            line = f"{match.group(1)}={secrets.token_urlsafe(24)}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def ensure_env(root: Path) -> bool:
    """Write root/.env if absent, or append secrets it lacks; True when something was written."""
    target = root / ".env"
    example = (root / ".env.example").read_text(encoding="utf-8")
    if not target.exists():
        target.write_text(render(example), encoding="utf-8")
        target.chmod(0o600)
        return True
    have = {m.group(1) for m in map(_ASSIGN.match, target.read_text(encoding="utf-8").splitlines()) if m}
    missing = [
        m.group(1)
        for m in map(_ASSIGN.match, example.splitlines())
        if m and m.group(2) == PLACEHOLDER and m.group(1) not in have
    ]
    if not missing:
        return False
    with target.open("a", encoding="utf-8") as handle:
        handle.write("".join(f"{key}={secrets.token_urlsafe(24)}\n" for key in missing))
    return True
