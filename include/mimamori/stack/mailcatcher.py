"""A local mail catcher: an SMTP server on 127.0.0.1 that keeps every message as an .eml file.

A person can open exactly what a data owner would receive; tests read the same files.
Run: ``python -m mimamori.stack.mailcatcher --port 18025 --dir .local/mail``
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

_counter = itertools.count()


class SaveToDirectory:
    """aiosmtpd handler: one ``<timestamp>-<n>.eml`` per message, recipients in X-Envelope-To."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        name = f"{stamp}-{time.time_ns() % 1_000_000_000:09d}-{next(_counter):04d}.eml"
        header = ("X-Envelope-To: " + ", ".join(envelope.rcpt_tos) + "\r\n").encode()
        tmp = self.directory / (name + ".part")
        tmp.write_bytes(header + envelope.original_content)
        tmp.rename(self.directory / name)
        return "250 Message accepted for delivery"


def read_messages(directory: Path) -> list[EmailMessage]:
    """Every caught message, oldest first (parsed with the modern email policy)."""
    if not directory.is_dir():
        return []
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for path in sorted(directory.glob("*.eml"))
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Keep every SMTP message as an .eml file (127.0.0.1 only).")
    parser.add_argument("--port", type=int, default=18025)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)
    controller = Controller(SaveToDirectory(args.dir), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"mail catcher on 127.0.0.1:{args.port}, saving to {args.dir}", flush=True)
    loop = asyncio.new_event_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    loop.run_until_complete(stop)
    controller.stop()


if __name__ == "__main__":
    main()
