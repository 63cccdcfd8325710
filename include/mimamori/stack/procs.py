"""Start and stop background services by PID file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from mimamori.settings import Settings


def run_dir(settings: Settings) -> Path:
    path = settings.state_dir / "run"
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir(settings: Settings) -> Path:
    path = settings.state_dir / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def pid_file(settings: Settings, name: str) -> Path:
    return run_dir(settings) / f"{name}.pid"


def read_pid(settings: Settings, name: str) -> int | None:
    path = pid_file(settings, name)
    try:
        pid = int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        path.unlink(missing_ok=True)
        return None
    except PermissionError:
        return pid
    return pid


def start(
    settings: Settings,
    name: str,
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start `argv` detached in its own process group; its output goes to logs/<name>.log."""
    existing = read_pid(settings, name)
    if existing:
        return existing
    log = open(log_dir(settings) / f"{name}.log", "ab")
    proc = subprocess.Popen(
        list(argv),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=dict(env) if env is not None else None,
        cwd=str(cwd) if cwd else None,
        start_new_session=True,
    )
    pid_file(settings, name).write_text(str(proc.pid))
    return proc.pid


def stop(settings: Settings, name: str, timeout: float = 20.0) -> bool:
    """Stop the process group recorded in <name>.pid; True if something was running."""
    pid = read_pid(settings, name)
    if not pid:
        return False
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _group_alive(pid):
                break
            time.sleep(0.2)
        else:
            continue
        break
    pid_file(settings, name).unlink(missing_ok=True)
    return True


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    # A zombie leader still "exists"; reap it if it is our child.
    try:
        os.waitpid(pgid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def ours_or_free(settings: Settings, name: str, port: int, port_variable: str) -> int | None:
    """The PID of <name> if this project's copy runs; None if `port` is free for it; an error if
    another process holds the port."""
    pid = read_pid(settings, name)
    if not pid and port_open(port):
        raise RuntimeError(
            f"port {port} is already in use by a process this project did not start "
            f"(no {pid_file(settings, name)}); stop it or set {port_variable}"
        )
    return pid


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_port(port: int, timeout: float, what: str, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port, host):
            return
        time.sleep(0.5)
    raise TimeoutError(f"{what} did not open {host}:{port} within {timeout:.0f}s")


def answers(url: str, body: bytes, timeout: float = 2.0) -> bool:
    """True if GET `url` answers 200 with `body` (surrounding whitespace aside)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status == 200 and resp.read().strip() == body
    except (urllib.error.URLError, OSError):
        return False


def log_tail(settings: Settings, name: str, lines: int = 30) -> str:
    """The last `lines` lines of logs/<name>.log ("(no log)" if there is none)."""
    try:
        return "\n".join((log_dir(settings) / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def wait_healthy(
    settings: Settings, name: str, what: str, health_url: str, body: bytes, timeout: float, poll: float
) -> float:
    """Poll `health_url` until it answers `body`; returns the seconds waited. Fails fast (with the
    log's tail) if the process <name> died, and after `timeout` seconds."""
    started = time.monotonic()
    while not answers(health_url, body):
        if not read_pid(settings, name):
            raise RuntimeError(
                f"{what} exited during start; see {log_dir(settings) / f'{name}.log'}:\n" + log_tail(settings, name)
            )
        if time.monotonic() - started > timeout:
            raise TimeoutError(
                f"{what} is not healthy at {health_url} after {timeout:.0f}s:\n" + log_tail(settings, name)
            )
        time.sleep(poll)
    return time.monotonic() - started
