"""The web server's launcher: connections it accepts send each message as soon as it is written."""
import socket
from contextlib import contextmanager

from app import serve


@contextmanager
def accepted_by(bind):
    """A connection that a socket made by bind(address, port, backlog) accepted."""
    listener = bind("127.0.0.1", 0, 8)
    client = socket.create_connection(listener.getsockname(), timeout=5)
    try:
        listener.setblocking(True)
        accepted, _ = listener.accept()
        with accepted:
            yield accepted
    finally:
        client.close()
        listener.close()


def test_accepted_connections_have_nagle_off():
    with accepted_by(serve.bind_socket) as accepted:
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_streamlits_own_socket_leaves_nagle_on():
    """Why the launcher exists: the socket Streamlit binds gives its connections Nagle's algorithm (if this fails, a
    newer Streamlit turns it off itself and app/serve.py can go)."""
    with accepted_by(serve._bind) as accepted:
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        assert accepted.proto != socket.IPPROTO_TCP      # so asyncio does not turn it off on its connections
