"""A small OpenID Connect issuer on 127.0.0.1 over TLS: discovery and a token endpoint that
honours ``grant_type=refresh_token``, for the oidc auth-provider tests."""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode

import trustme

CLIENT_ID = "kgen cli"
CLIENT_SECRET = "s3cret/+="
"""Characters that the form-URL-encoding of the Basic header changes."""


def jwt(subject: str, expires: float, **claims: Any) -> str:
    """An unsigned-looking JWT (the client never verifies the signature) with ``exp``."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    payload = {"iss": "kgen-test", "sub": subject, "exp": int(expires), **claims}
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(payload)}.c2lnbmF0dXJl"


@dataclass
class TokenRequest:
    """One POST to the token endpoint as the issuer received it."""

    authorization: str
    form: dict[str, str]

    @property
    def basic(self) -> tuple[str, str] | None:
        """The client id and secret of a Basic header, form-URL-decoded as the spec says."""
        if not self.authorization.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(self.authorization[6:]).decode().partition(":")
        return unquote_plus(user), unquote_plus(password)


class Issuer:
    """Discovery at ``/.well-known/openid-configuration`` and ``POST /token``.

    ``id_tokens`` are handed out in order, one per successful refresh. Refresh tokens are
    single-use (each refresh returns a new one) unless ``rotate`` is False. ``answer`` is
    "ok", "invalid_grant" (400 for every refresh) or "no_id_token"; ``accept_basic`` False
    makes client credentials in the Basic header fail (401 invalid_client), so only the form
    works; ``delay`` slows every token answer; ``form_answers`` sends token answers
    form-encoded instead of as JSON; ``discovery_status`` other than 200 fails the
    discovery. Thread-safe; runs until :meth:`stop`.
    """

    def __init__(self, ca: trustme.CA, id_tokens: list[str], refresh_token: str = "r0"):
        self.id_tokens = list(id_tokens)
        self.valid_refresh = {refresh_token}
        self.rotate = True
        self.answer = "ok"
        self.accept_basic = True
        self.delay = 0.0
        self.discovery_status = 200
        self.form_answers = False
        self.discoveries = 0
        self.requests: list[TokenRequest] = []
        self.refreshes = 0
        self._lock = threading.Lock()
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/.well-known/openid-configuration":
                    self._reply(404, {"error": "not found"})
                    return
                with issuer._lock:
                    issuer.discoveries += 1
                if issuer.discovery_status != 200:
                    self._reply(issuer.discovery_status, {"error": "discovery is off"})
                    return
                self._reply(200, {"issuer": issuer.url, "token_endpoint": issuer.url + "/token"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = {
                    key: values[0]
                    for key, values in parse_qs(self.rfile.read(length).decode()).items()
                }
                request = TokenRequest(self.headers.get("Authorization", ""), form)
                time.sleep(issuer.delay)
                status, body = issuer._token(request)
                self._reply(status, body, form=issuer.form_answers)

            def _reply(self, status: int, body: dict[str, Any], form: bool = False) -> None:
                data = (urlencode(body) if form else json.dumps(body)).encode()
                self.send_response(status)
                kind = "application/x-www-form-urlencoded" if form else "application/json"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def _token(self, request: TokenRequest) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(request)
            form = request.form
            if form.get("grant_type") != "refresh_token":
                return 400, {"error": "unsupported_grant_type"}
            credentials = request.basic
            if credentials is not None and not self.accept_basic:
                return 401, {"error": "invalid_client"}
            if credentials is None:
                credentials = (form.get("client_id", ""), form.get("client_secret", ""))
            if credentials != (CLIENT_ID, CLIENT_SECRET):
                return 401, {"error": "invalid_client", "error_description": "who are you"}
            refresh = form.get("refresh_token", "")
            if self.answer == "invalid_grant" or refresh not in self.valid_refresh:
                return 400, {"error": "invalid_grant", "error_description": "refresh token unknown"}
            body: dict[str, Any] = {"access_token": "opaque", "token_type": "Bearer"}
            if self.rotate:
                self.valid_refresh.discard(refresh)
                new_refresh = f"r{self.refreshes + 1}"
                self.valid_refresh.add(new_refresh)
                body["refresh_token"] = new_refresh
            if self.answer != "no_id_token":
                body["id_token"] = self.id_tokens[self.refreshes]
            self.refreshes += 1
            return 200, body

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()
