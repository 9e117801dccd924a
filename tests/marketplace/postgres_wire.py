"""Counting round trips to PostgreSQL: a proxy that reads what clients send.

:class:`WireCounter` listens on 127.0.0.1 and passes every connection through to the
real server, reading the client's side of the wire protocol as it goes. A client waits
for the server only after a ``Sync`` (the end of an extended-protocol exchange, or of a
pipeline) or a simple ``Query``: each is answered by ``ReadyForQuery``, and nothing else
makes a client stop and wait. So the number of those two messages a client sent is the
number of round trips it made. The count of a message is taken before the message is
passed on, so once the client has its answer, the count includes the question.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections import Counter
from urllib.parse import urlsplit, urlunsplit

SSL_OR_GSS = (80877103, 80877104)
"""Startup-phase requests the server answers with one byte before the real startup."""

WAITS = (b"S", b"Q")
"""Sync and Query: the messages after which a client waits for the server."""


class WireCounter:
    """A counting proxy in front of the server of *url*; :attr:`url` goes through it."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self.listener = socket.create_server(("127.0.0.1", 0))
        port = self.listener.getsockname()[1]
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@127.0.0.1:{port}" if userinfo else f"127.0.0.1:{port}"
        query = "&".join(q for q in (parts.query, "sslmode=disable&gssencmode=disable") if q)
        self.url = urlunsplit((parts.scheme, netloc, parts.path, query, ""))
        self.messages: Counter[bytes] = Counter()
        """Every message type the clients sent, by its type byte."""
        self.log: list[str] = []
        """What the clients sent, in order: each statement's SQL (``Parse`` or ``Query``)
        and ``sync`` for each ``Sync``, so a failing count can say what the trips were."""
        self._lock = threading.Lock()
        self._closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def round_trips(self) -> int:
        """Round trips made through the proxy so far (``Sync`` plus ``Query`` messages)."""
        with self._lock:
            return sum(self.messages[m] for m in WAITS)

    def close(self) -> None:
        self._closing = True
        self.listener.close()

    def __enter__(self) -> WireCounter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()
            threading.Thread(target=self._read_client, args=(client, server), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                s.close()

    def _read_client(self, client: socket.socket, server: socket.socket) -> None:
        buffer = bytearray()

        def take(n: int) -> bytes:
            while len(buffer) < n:
                data = client.recv(65536)
                if not data:
                    raise EOFError
                buffer.extend(data)
            out = bytes(buffer[:n])
            del buffer[:n]
            return out

        try:
            while True:  # the startup phase: length-prefixed packets with no type byte
                head = take(8)
                length, code = struct.unpack("!ii", head)
                server.sendall(head + take(length - 8))
                if code not in SSL_OR_GSS:
                    break
            while True:  # then typed messages: one type byte, then a length that counts itself
                head = take(5)
                kind, length = head[:1], struct.unpack("!i", head[1:])[0]
                body = take(length - 4)
                with self._lock:
                    self.messages[kind] += 1
                    if kind == b"S":
                        self.log.append("sync")
                    elif kind in (b"P", b"Q"):
                        sql = body.split(b"\0")[1 if kind == b"P" else 0]
                        self.log.append(sql.decode("utf-8", "replace"))
                server.sendall(head + body)
        except (EOFError, OSError):
            pass
        finally:
            for s in (client, server):
                s.close()
