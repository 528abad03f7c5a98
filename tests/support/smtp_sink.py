"""A real SMTP server (aiosmtpd) for tests, run as its own process.

Each accepted message is written to ``<dir>/<n>.eml`` with its envelope recipients in
``<n>.rcpt``. The file ``<dir>/mode`` switches behaviour at run time: ``ok`` (default),
``tempfail`` (451 to every DATA), ``permfail`` (550 to every DATA).

    python -m tests.support.smtp_sink --port 2525 --dir /tmp/mails
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import os
from pathlib import Path

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory: Path):
        self.directory = directory
        existing = [int(p.stem) for p in directory.glob("*.eml") if p.stem.isdigit()]
        self.counter = itertools.count(max(existing, default=0) + 1)

    def mode(self) -> str:
        try:
            return (self.directory / "mode").read_text().strip() or "ok"
        except FileNotFoundError:
            return "ok"

    async def handle_DATA(self, server, session, envelope):
        mode = self.mode()
        if mode == "tempfail":
            return "451 4.3.0 try again later"
        if mode == "permfail":
            return "550 5.1.1 mailbox unavailable"
        number = next(self.counter)
        final = self.directory / f"{number:06d}.eml"
        partial = self.directory / f"{number:06d}.partial"
        partial.write_bytes(envelope.original_content or envelope.content)
        (self.directory / f"{number:06d}.rcpt").write_text("\n".join(envelope.rcpt_tos))
        os.replace(partial, final)
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    controller = Controller(Sink(args.dir), hostname="127.0.0.1", port=args.port,
                            data_size_limit=50 * 1024 * 1024)
    controller.start()
    (args.dir / "ready").write_text(str(args.port))
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
