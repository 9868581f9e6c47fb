"""Start the web server: `streamlit run app/main.py` with its arguments (`make run`), its connections sending each
message as soon as it is written.

Streamlit binds its listening socket itself, without naming TCP as its protocol, so asyncio does not turn Nagle's
algorithm off on the connections it accepts (it does for sockets it knows are TCP). A response written in two parts
(headers, then body; or two websocket messages in a row) then kept its second part back until the browser
acknowledged the first, which a browser delays by up to 40 ms: every picture after the first on a connection, and
most reruns, arrived 40 ms late or more (one user moving /draw's step: 48 ms a move, 6 ms without the wait; an
uploaded photo 450 ms, 130 ms without). Linux gives accepted connections the listening socket's TCP_NODELAY.
"""
import socket
import sys

from streamlit.web import cli
from streamlit.web.server.starlette import starlette_server

_bind = starlette_server._bind_socket


def bind_socket(address: str, port: int, backlog: int) -> socket.socket:
    """Streamlit's listening socket, with TCP_NODELAY for the connections it accepts."""
    sock = _bind(address, port, backlog)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def main(args: list[str]) -> int:
    starlette_server._bind_socket = bind_socket
    sys.argv = ["streamlit", "run", "app/main.py", *args]
    return cli.main(prog_name="streamlit")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
