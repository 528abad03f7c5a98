"""Debian's Chromium driven by Playwright, for tests that use a page as a person would."""
from __future__ import annotations

import os
import shutil

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    # this machine's network is closed: without these Chromium keeps dialling out
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str | None:
    return os.environ.get("HRC_CHROMIUM") or shutil.which("chromium")
