"""Answers leave at once on kept-alive connections: the listening socket has TCP_NODELAY, which
the connections it accepts inherit. Without it, eventlet's separate writes of headers and body
met a client's delayed ACK, and a kept-alive client waited some 40 ms for every mid-sized answer
(bench/directory_bench.py shows the difference)."""
from __future__ import annotations

import socket

from nameko.containers import ServiceContainer

from shared.http import JsonWebServer, http, json_response


class Ping:
    name = "ping"

    @http("GET", "/ping")
    def ping(self, request):
        return json_response({"pong": True})


def test_the_web_server_sends_without_waiting_for_acks(free_port):
    port = free_port()
    container = ServiceContainer(Ping, {"AMQP_URI": "memory://",
                                        "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"})
    container.start()
    try:
        server = next(e for e in container.subextensions if isinstance(e, JsonWebServer))
        assert server._sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        container.stop()
