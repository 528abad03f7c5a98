"""A TCP proxy in front of RabbitMQ that a test can take down and bring back.

``down()`` stops listening and cuts every open connection, as a broker restart would; ``up()``
listens again on the same port. The proxy runs in green threads of the test process.
"""
from __future__ import annotations

import socket

import eventlet
from eventlet.green import socket as green_socket


class ToggleProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = _free_port()
        self._server: green_socket.socket | None = None
        self._acceptor = None
        self._pipes: set = set()
        self._sockets: set = set()

    def up(self) -> None:
        if self._server is not None:
            return
        server = eventlet.listen(("127.0.0.1", self.port))
        self._server = server
        self._acceptor = eventlet.spawn(self._accept, server)

    def down(self) -> None:
        server, self._server = self._server, None
        if self._acceptor is not None:
            self._acceptor.kill()
            self._acceptor = None
        if server is not None:
            server.close()
        # The pumps first, then their sockets: closing a socket another green thread is
        # reading leaves eventlet a listener on a file descriptor the OS soon gives to
        # something else ("Second simultaneous read on fileno ...").
        for pipe in list(self._pipes):
            pipe.kill()
        for sock in list(self._sockets):
            _close(sock)
        self._sockets.clear()
        self._pipes.clear()

    def _accept(self, server) -> None:
        while True:
            client, _ = server.accept()
            try:
                upstream = eventlet.connect(self.target)
            except OSError:
                _close(client)
                continue
            self._sockets.update({client, upstream})
            self._pipes.add(eventlet.spawn(self._pump, client, upstream))
            self._pipes.add(eventlet.spawn(self._pump, upstream, client))

    def _pump(self, source, sink) -> None:
        try:
            while True:
                chunk = source.recv(65536)
                if not chunk:
                    break
                sink.sendall(chunk)
        except (OSError, EOFError):
            # EOFError: eventlet's answer to a recv pending on a socket the other pump closed.
            pass
        finally:
            # Wake the other pump (its recv returns b"") and close only what this one reads:
            # each socket is closed by the one green thread waiting on it.
            _shutdown(sink)
            _shutdown(source)
            source.close()
            self._sockets.discard(source)


def _close(sock) -> None:
    _shutdown(sock)
    sock.close()


def _shutdown(sock) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
