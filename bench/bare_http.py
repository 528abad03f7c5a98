"""The anchor for intake: a bare nameko ``@http`` service that reads the same JSON body and
answers 202 with the same shape of JSON, and does nothing else (no validation, no database, no
broker). What intake does beyond this is the price of its promises.

    .venv/bin/python -m bench.bare_http --port 8100
"""
import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import json  # noqa: E402
import secrets  # noqa: E402
import signal  # noqa: E402

from nameko.containers import ServiceContainer  # noqa: E402
from nameko.web.handlers import http  # noqa: E402
from werkzeug.wrappers import Response  # noqa: E402


class BareService:
    name = "bare"

    @http("POST", "/applications")
    def submit(self, request):
        body = json.loads(request.get_data())
        reference = f"HRC-2026-{secrets.token_hex(3).upper()}"
        return Response(json.dumps({"reference": reference, "status": "received",
                                    "government_name": body.get("government_name")}),
                        status=202, mimetype="application/json")

    @http("GET", "/health")
    def health(self, request):
        return Response('{"status": "ok"}', mimetype="application/json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=10)
    args = parser.parse_args()
    container = ServiceContainer(BareService, {
        "AMQP_URI": "memory://", "WEB_SERVER_ADDRESS": f"127.0.0.1:{args.port}",
        "max_workers": args.workers})
    container.start()
    stopping = eventlet.event.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.ready() or stopping.send(True))
    stopping.wait()
    container.stop()


if __name__ == "__main__":
    main()
