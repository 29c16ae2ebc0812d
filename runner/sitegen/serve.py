"""Serve a built site on localhost with the standard library (no reloader, no network)."""

from __future__ import annotations

import functools
import http.server
from pathlib import Path

from runner.errors import UsageError


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per request would drown the URL the user needs


def static_server(directory: Path, host: str, port: int) -> http.server.ThreadingHTTPServer:
    """A server for `directory` (port 0: any free port); the browser tests use it too."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    return http.server.ThreadingHTTPServer((host, port), handler)


def check_port(port: int) -> None:
    """Refuse a port number no socket can have (commands check it before minutes of work)."""
    if not 0 <= port < 65536:
        raise UsageError(f"--port: {port} is not a TCP port")


def serve_directory(directory: Path, host: str, port: int) -> None:
    """Block serving `directory` until interrupted (Ctrl-C); callers have checked `port` with
    `check_port` before their minutes of work."""
    try:
        server = static_server(directory, host, port)
    except OSError as err:
        raise UsageError(f"--port {port}: cannot listen ({err.strerror})") from None
    with server:
        bound_port = server.server_address[1]
        print(
            f"Serving the leaderboard at http://{host}:{bound_port}/ (Ctrl-C to stop)", flush=True
        )
        server.serve_forever()
