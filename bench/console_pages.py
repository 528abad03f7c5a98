"""How long the console's pages and its sign-in take, on the embedded system (prints, asserts
nothing):

    .venv/bin/python -m bench console_pages [--rounds 30]

Starts ``hrc run`` in a scratch directory, seeds it as bench.console_screenshots does, signs in
with ``requests`` and times each page (each one is several staff-API calls to the registry and
the reports) and the sign-in itself (argon2id with argon2-cffi's default cost).
"""
from __future__ import annotations

import argparse
import re
import statistics
import time

import requests

from bench.console_screenshots import ADMIN, seeded_system


def timed(call, rounds: int) -> list[float]:
    spent = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def sign_in(base: str) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{base}/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    answer = session.post(f"{base}/login", data={"csrf_token": token, "email": ADMIN[0],
                                                 "password": ADMIN[1]}, allow_redirects=False)
    assert answer.status_code == 303, answer.status_code
    return session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with seeded_system("console-bench") as (ports, ids):
        base = f"http://127.0.0.1:{ports['console']}"
        rows = [("sign-in (argon2id)", timed(lambda: sign_in(base), max(5, args.rounds // 3)))]
        session = sign_in(base)
        for name, path in (("dashboard", "/"), ("queue", "/applications"),
                           ("queue, searched", "/applications?q=Grigny"),
                           ("application", f"/applications/{ids['application']}"),
                           ("members", "/members"), ("waves", "/waves"),
                           ("digests", "/digests"), ("staff", "/staff")):
            rows.append((name, timed(lambda p=path: session.get(base + p).raise_for_status(),
                                     args.rounds)))
    print(f"{'page':<22}{'median ms':>10}{'max ms':>9}  (n)")
    for name, spent in rows:
        print(f"{name:<22}{statistics.median(spent):>10.1f}{max(spent):>9.1f}  ({len(spent)})")


if __name__ == "__main__":
    main()
