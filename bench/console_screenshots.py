"""Screenshots of every console page, in English, French and Spanish, 1280 and 375 px wide.

    .venv/bin/python -m bench.console_screenshots [--out var/screenshots]

Starts the embedded system (``hrc run``, all services in one process) in a scratch directory,
seeds it (a wave, two applications that look alike, a member), signs in as an admin with
Debian's Chromium through Playwright and writes ``<page>-<lang>-<width>.png`` to ``--out``.
"""
from __future__ import annotations

import argparse
import json
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.support import infra
from tests.support.browser import CHROMIUM_ARGS, chromium_path

ADMIN = ("admin@example.org", "screenshots-only-password")
WIDTHS = (1280, 375)
LANGUAGES = ("en", "fr", "es")
EXAMPLE = json.loads((infra.PROJECT / "docs" / "example-application.json").read_text())


def seed(ports: dict[str, int], token: str) -> dict[str, int]:
    staff = {"Authorization": f"Bearer {token}"}
    registry = f"http://127.0.0.1:{ports['registry']}"
    wave = {"number": 4, "name": {"en": "Wave 4", "fr": "Vague 4", "es": "Ola 4"},
            "theme": {"en": "Dignity for all", "fr": "La dignité pour tous",
                      "es": "Dignidad para todos"},
            "opens_at": "2026-01-15"}
    requests.post(f"{registry}/api/waves", json=wave, headers=staff, timeout=10)
    requests.post(f"{registry}/api/waves/4/open", headers=staff, timeout=10)
    for name in ("Ville de Grigny", "Commune de Grigny", "Municipalidad de Rosario"):
        application = {**EXAMPLE, "government_name": name}
        if "Rosario" in name:
            application.update(country="AR", language="es", contact_email="rosario@example.org")
        requests.post(f"http://127.0.0.1:{ports['intake']}/applications", json=application,
                      timeout=10).raise_for_status()

    def listed():
        body = requests.get(f"{registry}/api/applications", headers=staff, timeout=10).json()
        return body["items"] if body["total"] >= 3 else None

    items = infra.wait_for(listed, 30, what="the seeded applications")
    rosario = next(a for a in items if "Rosario" in a["government_name"])
    requests.post(f"{registry}/api/applications/{rosario['id']}/accept", json={"wave": 4},
                  headers=staff, timeout=10)
    grigny = next(a for a in items if a["possible_duplicates"]) if any(
        a["possible_duplicates"] for a in items) else items[0]
    member = infra.wait_for(lambda: requests.get(f"{registry}/api/members", headers=staff,
                                                 timeout=10).json()["items"], 30, what="a member")
    return {"application": grigny["id"], "member": member[0]["id"]}


def shoot(base: str, ids: dict[str, int], out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    pages = {
        "login": "/login",
        "dashboard": "/",
        "applications": "/applications",
        "application": f"/applications/{ids['application']}",
        "members": "/members",
        "member": f"/members/{ids['member']}",
        "waves": "/waves",
        "digests": "/digests",
        "staff": "/staff",
        "not-found": "/applications/999999",
    }
    written = []
    manager = sync_playwright()
    playwright = manager.start()
    browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    try:
        for language in LANGUAGES:
            for width in WIDTHS:
                context = browser.new_context(viewport={"width": width, "height": 900},
                                              locale=language)
                page = context.new_page()
                page.goto(f"{base}/password/forgot?lang={language}")
                written.append(_snap(page, out, "forgot", language, width))
                page.goto(f"{base}/login?lang={language}")
                page.click("form[action^='/login'] button[type=submit]")  # empty: errors shown
                written.append(_snap(page, out, "login", language, width))
                page.fill("#email", ADMIN[0])
                page.fill("#password", ADMIN[1])
                page.click("form[action^='/login'] button[type=submit]")
                page.select_option("#language-choice", language)
                page.click("form[action='/account/language'] button")
                for name, path in pages.items():
                    if name == "login":
                        continue
                    page.goto(base + path)
                    written.append(_snap(page, out, name, language, width))
                context.close()
    finally:
        browser.close()
        manager._client._transport._proc.kill()
    return written


def _snap(page, out: Path, name: str, language: str, width: int) -> Path:
    path = out / f"{name}-{language}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@contextmanager
def seeded_system(label: str) -> Iterator[tuple[dict[str, int], dict[str, int]]]:
    """The embedded system in a scratch folder, with the admin and the seeded facts: its ports
    and the seeded ids (also what bench.console_pages times)."""
    with tempfile.TemporaryDirectory(prefix=f"hrc-{label}-") as scratch:
        token = secrets.token_urlsafe(24)
        env = infra.base_env(Path(scratch) / "var")
        env.update(STAFF_API_TOKENS=f"{label}:{token}", CONSOLE_ADMIN_EMAIL=ADMIN[0],
                   CONSOLE_ADMIN_PASSWORD=ADMIN[1])
        ports = {s: int(env[f"{s.upper()}_PORT"])
                 for s in ("intake", "registry", "notify", "reports", "console")}
        system = infra.ServiceProcess([], env, Path(scratch) / "hrc.log")
        system.start()
        try:
            system.wait_healthy(list(ports.values()))
            yield ports, seed(ports, token)
        finally:
            system.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="var/screenshots")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with seeded_system("screenshots") as (ports, ids):
        written = shoot(f"http://127.0.0.1:{ports['console']}", ids, out)
    print(f"{len(written)} screenshots in {out}")


if __name__ == "__main__":
    main()
