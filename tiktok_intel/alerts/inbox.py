"""A local webhook that keeps what it is sent: the demo's stand-in for a desk's Slack channel
(``127.0.0.1``, a free port). Each JSON message is appended to a JSON Lines file as it arrives."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

#: Largest message the inbox reads (a digest is a few kilobytes).
MAX_BYTES = 1_000_000


class WebhookInbox:
    """``with WebhookInbox(path) as inbox:`` messages POSTed to ``inbox.url`` land in ``inbox.messages`` and ``path``."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else None
        self.messages: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> WebhookInbox:
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                try:
                    size = min(int(self.headers.get("Content-Length") or 0), MAX_BYTES)
                    message = json.loads(self.rfile.read(size))
                except (ValueError, OSError):
                    self.send_response(400)
                    self.end_headers()
                    return
                inbox._keep(message)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="webhook-inbox").start()
        return self

    def _keep(self, message: dict[str, Any]) -> None:
        with self._lock:
            self.messages.append(message)
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(message, ensure_ascii=False) + "\n")

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the inbox is not running: use it as a context manager")
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def __exit__(self, *exc: Any) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
