"""Serve a products site over HTTP on the local machine (a convenience for browsing)."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


def start_server(site_dir: Path, port: int = 0) -> ThreadingHTTPServer:
    """Serve ``site_dir`` at http://127.0.0.1:PORT/ in a background thread (0: a free port)."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve_site(site_dir: Path, port: int) -> None:
    """Serve until interrupted (Ctrl+C)."""
    server = start_server(site_dir, port)
    print(f"serving http://127.0.0.1:{server.server_address[1]}/es/index.html (Ctrl+C to stop)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
