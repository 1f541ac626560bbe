"""Run the stand-in as its own small HTTP server on its own port, in a background thread.

The embedded default and the tests use this; production never imports the stand-in.
"""
from __future__ import annotations

import threading

from werkzeug.serving import make_server


class StandinServer:
    def __init__(self, wsgi_app, host: str = "127.0.0.1", port: int = 0):
        self._server = make_server(host, port, wsgi_app, threaded=True)
        self.host = host
        self.port = self._server.server_port
        self.wsgi_app = wsgi_app
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name=f"wechat-standin:{self.port}")

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self) -> "StandinServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
