"""A small HTTP(S) server on 127.0.0.1 that records what clients send, for wire-level tests."""

from __future__ import annotations

import json
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import trustme

SERVER_NAME = "api.kgen.test"
"""The only name in the server's certificate: clients reach it through tls-server-name."""

UNAUTHORIZED = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 401}
VERSION = {"major": "1", "minor": "33", "gitVersion": "v1.33.0"}


@dataclass
class Seen:
    """One request as the server received it."""

    path: str
    headers: list[tuple[str, str]]
    peer_names: list[str]

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


class Server:
    """Answers every GET with :data:`VERSION`, or 401 when ``accepted_token`` is set and neither
    that token nor a client certificate came with the request.

    ``ca`` None means plain HTTP; ``client_cert`` is "none", "optional" or "required"; ``cert_names``
    are the names in the server's certificate. The server thread runs until :meth:`stop`.
    """

    def __init__(
        self,
        ca: trustme.CA | None,
        *,
        client_cert: str = "none",
        cert_names: tuple[str, ...] = (SERVER_NAME,),
    ) -> None:
        self.accepted_token = ""
        self.seen: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                peer = self.connection.getpeercert() if ca is not None else None
                names = [name for _, name in peer["subjectAltName"]] if peer else []
                server.seen.append(Seen(self.path, list(self.headers.items()), names))
                token = self.headers.get("Authorization")
                expected = f"Bearer {server.accepted_token}"
                ok = not server.accepted_token or token == expected or bool(names)
                body = json.dumps(VERSION if ok else UNAUTHORIZED).encode()
                self.send_response(200 if ok else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if ca is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert(*cert_names).configure_cert(context)
            if client_cert != "none":
                ca.configure_trust(context)
                mode = ssl.CERT_REQUIRED if client_cert == "required" else ssl.CERT_OPTIONAL
                context.verify_mode = mode
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        scheme = "https" if ca is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()
