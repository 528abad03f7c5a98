"""The applicant's page on intake alone (``hrc run intake``, SQLite): how long the page takes,
an answer with five 5 MB images (the most it takes), and a staff download of one of them.

    python -m bench applicant [--pages 200]
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from services.intake import applicant, casefile, submissions
from services.intake import db as intake_db
from services.intake.schemas import form_schema
from shared import db as shared_db
from shared.events import new_event, typed
from tests.support import infra

TOKEN = "bench-staff-token"
EXAMPLE = infra.PROJECT / "docs" / "example-application.json"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = infra.base_env(Path(tmp) / "var")
        env.update(STAFF_API_TOKENS=f"bench:{TOKEN}", INTAKE_RATE_LIMIT="off")
        base = f"http://127.0.0.1:{env['INTAKE_PORT']}"
        process = infra.ServiceProcess(["intake"], env, Path(tmp) / "intake.log")
        process.start()
        try:
            process.wait_healthy([int(env["INTAKE_PORT"])])
            database = shared_db.database_for(f"sqlite:///{tmp}/var/intake.db")
            url = base + _asked(database)
            _measure(base, url, args.pages)
        finally:
            process.stop()
            shared_db.dispose_all()


def _asked(database) -> str:
    receipt = submissions.receive(database, form_schema("fr").load(json.loads(EXAMPLE.read_text())))
    key, now = applicant.new_key(), datetime.now(UTC)
    with database.transaction() as session:
        intake_db.add_page_key(session, receipt.reference, applicant.key_digest(key),
                               now.replace(tzinfo=None))
        for offset, (kind, data) in enumerate([("application.under_review", {"wave": 4}),
                                               ("application.info_requested",
                                                {"message": "La délibération ?"})], start=1):
            step = new_event(kind, {"application_id": 1, "reference": receipt.reference, **data},
                             occurred_at=now + timedelta(seconds=offset))
            casefile.follow(typed(step), session)
    return f"/applications/{receipt.reference}/{key}"


def _measure(base: str, url: str, pages: int) -> None:
    browser = requests.Session()
    times = []
    for _ in range(pages):
        started = time.perf_counter()
        page = browser.get(url, timeout=10)
        times.append((time.perf_counter() - started) * 1000)
        assert page.status_code == 200
    times.sort()
    print(f"page GET x{pages}: median {statistics.median(times):.1f} ms, "
          f"p95 {times[int(0.95 * len(times)) - 1]:.1f} ms")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    image = b"\xff\xd8\xff\xe0" + bytes(range(256)) * (5 * 4096 - 1)
    files = [("attachments", (f"photo{i}.jpg", image, "image/jpeg")) for i in range(5)]
    started = time.perf_counter()
    answered = browser.post(f"{url}/answer", data={"message": "Voici.", "csrf_token": token},
                            files=files, allow_redirects=False, timeout=60)
    elapsed = time.perf_counter() - started
    assert answered.status_code == 303, answered.text
    print(f"answer with 5 x {len(image) / 2**20:.2f} MB: {elapsed * 1000:.0f} ms")
    listed = requests.get(f"{base}/api/applications/{url.split('/')[-2]}/answers",
                          headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).json()
    download = base + listed["items"][0]["attachments"][0]["url"]
    started = time.perf_counter()
    got = requests.get(download, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    elapsed = time.perf_counter() - started
    assert got.content == image
    print(f"staff download of {len(image) / 2**20:.2f} MB: {elapsed * 1000:.0f} ms")


if __name__ == "__main__":
    main()
