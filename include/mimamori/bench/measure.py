"""Measuring a stage: wall time and peak memory of a child process (os.wait4), and the
PostgreSQL server's memory sampled from /proc while it runs. Standard library only."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Measured:
    """One measured child process."""

    argv: list[str]
    seconds: float
    max_rss_kib: int  # ru_maxrss of the child and its waited-for descendants (Linux: KiB)
    returncode: int
    tail: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_measured(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    log: Callable[[str], None] | None = None,
    tail_lines: int = 80,
    timeout: float | None = None,
) -> Measured:
    """Run `argv` to completion; its output goes to `log` (if given) and the last lines are kept.

    Peak memory comes from ``os.wait4`` (the rusage of exactly this child, which on Linux
    includes the largest of its reaped descendants), so concurrent work elsewhere does not mix in.
    """
    started = time.monotonic()
    proc = subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        env=dict(env) if env is not None else None,
        cwd=str(cwd) if cwd else None,
    )
    tail: deque[str] = deque(maxlen=tail_lines)

    def drain() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            tail.append(line)
            if log:
                log(line)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    timer = None
    if timeout:
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
    _, status, usage = os.wait4(proc.pid, 0)
    if timer:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join(timeout=10)
    return Measured(list(argv), time.monotonic() - started, int(usage.ru_maxrss), proc.returncode, list(tail))


# --------------------------------------------------------------------------- /proc parsing

_KB_LINE = re.compile(r"^(\w+):\s+(\d+)\s*kB\s*$")


def parse_kb_fields(text: str) -> dict[str, int]:
    """``Key:   1234 kB`` lines (/proc/PID/status, smaps_rollup, meminfo) → {Key: KiB}."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        m = _KB_LINE.match(line.strip())
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


_TIME_V = re.compile(r"Maximum resident set size \(kbytes\):\s*(\d+)")


def parse_time_v_max_rss(text: str) -> int | None:
    """Peak RSS (KiB) from GNU ``/usr/bin/time -v`` output, or None."""
    m = _TIME_V.search(text)
    return int(m.group(1)) if m else None


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # pid (comm) state ppid ...: comm may contain spaces and parentheses
    rest = stat[stat.rfind(")") + 2 :].split()
    return int(rest[1]) if len(rest) > 1 else None


def process_tree(root: int) -> list[int]:
    """`root` and its direct children (a postmaster and its backends)."""
    pids = [root]
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _ppid(int(entry)) == root:
            pids.append(int(entry))
    return pids


def pss_kib(pids: Sequence[int]) -> int:
    """Sum of proportional set sizes (shared memory counted once overall) of `pids`."""
    total = 0
    for pid in pids:
        try:
            total += parse_kb_fields(Path(f"/proc/{pid}/smaps_rollup").read_text()).get("Pss", 0)
        except OSError:
            continue
    return total


class TreeSampler:
    """Samples the PSS of a process tree (e.g. the PostgreSQL server) in a thread; keeps the peak."""

    def __init__(self, root_pid: int | None, interval: float = 0.5):
        self.root_pid = root_pid
        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> int:
        if not self.root_pid:
            return 0
        value = pss_kib(process_tree(self.root_pid))
        self.peak_kib = max(self.peak_kib, value)
        return value

    def __enter__(self) -> TreeSampler:
        self.peak_kib = 0
        if self.root_pid:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self.sample()


def postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((Path(data_dir) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# --------------------------------------------------------------------------- formatting


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds >= 600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f}"


def fmt_mib(kib: int | None) -> str:
    if not kib:
        return "—"
    return f"{kib / 1024:,.0f}"


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "—"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def fmt_count(n: int | None) -> str:
    return "—" if n is None else f"{n:,}"


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None) -> str:
    """A plain-text table; `align` is one letter per column, 'l' or 'r' (default: first l, rest r)."""
    align = align or ("l" + "r" * (len(header) - 1))
    cells = [list(map(str, header)), *[list(map(str, r)) for r in rows]]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(header))]

    def line(row: list[str]) -> str:
        parts = []
        for text, width, a in zip(row, widths, align, strict=True):
            pad = " " * (width - _width(text))
            parts.append(text + pad if a == "l" else pad + text)
        return "  ".join(parts).rstrip()

    out = [line(cells[0]), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None) -> str:
    align = align or ("l" + "r" * (len(header) - 1))
    sep = ["---:" if a == "r" else "---" for a in align]
    esc = lambda s: str(s).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(map(esc, header)) + " |", "|" + "|".join(sep) + "|"]
    lines += ["| " + " | ".join(map(esc, r)) + " |" for r in rows]
    return "\n".join(lines)
