"""The ``oidc`` auth provider: an OpenID Connect ID token as the bearer token, refreshed with the
refresh token when it expires, and written back to the kubeconfig.

Configuration (``users[].user.auth-provider.config``): ``idp-issuer-url`` and ``client-id``
(both required), ``client-secret``, ``id-token``, ``refresh-token``,
``idp-certificate-authority`` (a PEM file, taken as written, relative to the working directory)
or ``idp-certificate-authority-data`` (base64 PEM; it wins over the file) to verify the issuer
with instead of the system's trust store, and ``extra-scopes`` (accepted and unused: a refresh
sends no scope).

Per request (:meth:`OIDCAuthProvider.authorize`):

* The ``id-token`` is used while valid: its JWT ``exp`` claim (whole seconds; a float is
  truncated; none means expired) is more than :data:`EXPIRY_DELTA` seconds away. The JWT is not
  verified (that is the API server's job), but an ``id-token`` that is not a JWT is an error.
* Otherwise, under the kubeconfig file's write lock (see :mod:`kgen.config._persist`) the
  entry is read afresh, and when another client (a thread with another provider, another
  process, kubectl, a login tool) has meanwhile stored a valid ID token, that one is taken.
  Else, with a ``refresh-token`` (the file's, else the one read at load), the token endpoint
  is discovered from
  ``<issuer>/.well-known/openid-configuration``, and ``grant_type=refresh_token`` is POSTed to
  it with the client id and secret in an HTTP Basic ``Authorization`` header (each
  form-URL-encoded); when that attempt fails for any reason, once more with ``client_id`` and
  ``client_secret`` in the form instead. The answer (JSON, or form-encoded for
  ``application/x-www-form-urlencoded`` and ``text/plain``) must be 2xx, carry no ``error``,
  and hold an ``access_token`` and an ``id_token``. The new ``id_token``, and the
  ``refresh_token`` when one came back, are written to the file's entry (its other config keys
  kept as the file has them) before the lock is released, and then used.
* Every failure (no refresh token, issuer unreachable, discovery or token request refused, no
  ``id_token`` in the answer, the file not writable) raises
  :class:`~kgen.config.AuthProviderError` naming the user entry and the issuer; the request
  is not sent.
* A 401 from the API server changes nothing (:meth:`~OIDCAuthProvider.on_unauthorized` returns
  ``False``): the 401 goes to the caller and the ID token stays in use until it expires, as with
  client-go, whose oidc round tripper does not look at responses.

Thread-safety: every method may be called from any thread. One lock per provider serialises the
token check and the refresh, so concurrent requests wait for one refresh instead of starting
several.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import parse_qs, quote_plus

from kgen.config._errors import AuthProviderError, KubeconfigError
from kgen.config._persist import locked, read_auth_provider_config, write_auth_provider_config
from kgen.rest._transport import TLSSettings
from kgen.rest.config import Config

__all__ = ["EXPIRY_DELTA", "OIDCAuthProvider", "id_token_valid", "oidc_config_problems"]

_log = logging.getLogger("kgen.config")

EXPIRY_DELTA = 10.0
"""Seconds before its ``exp`` from which an ID token counts as expired (client-go's slack)."""

ISSUER_URL = "idp-issuer-url"
CLIENT_ID = "client-id"
CLIENT_SECRET = "client-secret"
CA_FILE = "idp-certificate-authority"
CA_DATA = "idp-certificate-authority-data"
ID_TOKEN = "id-token"
REFRESH_TOKEN = "refresh-token"

REQUEST_TIMEOUT = 30.0
"""Seconds to wait for the issuer to answer one request (client-go waits without limit)."""

_BODY_EXCERPT = 80
_NO_ID_TOKEN = (
    'token response did not contain an id_token, either the scope "openid" wasn\'t requested'
    " upon login, or the provider doesn't support id_tokens as part of the refresh response"
)


class _Refused(Exception):
    """One step of a refresh failed; the message says how."""


def oidc_config_problems(config: Mapping[str, str]) -> list[str]:
    """What makes an ``oidc`` auth-provider config unusable, one message per problem naming the
    config key; empty when it is fine."""
    problems = [
        f"config.{key} must be provided" for key in (ISSUER_URL, CLIENT_ID) if not config.get(key)
    ]
    if config.get(CA_DATA):
        try:
            base64.b64decode(config[CA_DATA], validate=True)
        except (binascii.Error, ValueError):
            problems.append(f"config.{CA_DATA} is not valid base64")
    elif config.get(CA_FILE):
        try:
            with open(config[CA_FILE], "rb"):
                pass
        except OSError as exc:
            problems.append(f"config.{CA_FILE}: cannot read {config[CA_FILE]!r}: {exc.strerror}")
    return problems


def id_token_valid(token: str, now: float) -> bool:
    """Whether the JWT ``token`` is still good at ``now`` (Unix seconds), with the
    :data:`EXPIRY_DELTA` slack. Raises ``ValueError`` when it is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("ID Token is not a valid JWT")
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"ID Token is not a valid JWT: its claims do not decode ({exc})") from None
    expiry = claims.get("exp", 0) if isinstance(claims, dict) else 0
    if isinstance(expiry, bool) or not isinstance(expiry, int | float):
        raise ValueError(f"ID Token is not a valid JWT: exp {expiry!r} is not a number")
    return now + EXPIRY_DELTA < int(expiry)


class OIDCAuthProvider:
    """ID tokens of one kubeconfig user; see the module docstring for the whole contract.

    ``config`` is the user's ``auth-provider.config``; ``user`` the user entry's name and
    ``origin`` the kubeconfig file it came from (refreshed tokens are written there; with no
    ``origin`` they are kept in memory only). ``clock`` gives the current Unix time.
    Raises :class:`KubeconfigError` when ``config`` is unusable.
    """

    def __init__(
        self,
        config: Mapping[str, str],
        *,
        user: str,
        origin: str = "",
        clock: Callable[[], float] = time.time,
    ):
        import requests

        problems = oidc_config_problems(config)
        if problems:
            field = f"users[name={user}].user.auth-provider"
            raise KubeconfigError("; ".join(problems), file=origin or None, field=field)
        self._config = dict(config)
        self._user = user
        self._origin = origin
        self._issuer = config[ISSUER_URL]
        self._clock = clock
        self._lock = threading.Lock()
        ca_data = base64.b64decode(config[CA_DATA]) if config.get(CA_DATA) else b""
        tls_config = Config(host=self._issuer, ca_file=config.get(CA_FILE, ""), ca_data=ca_data)
        try:
            tls = TLSSettings(tls_config)
        except ValueError as exc:
            field = f"users[name={user}].user.auth-provider.config"
            raise KubeconfigError(str(exc), file=origin or None, field=field) from None
        from kgen.rest._adapter import KgenAdapter

        self._session = requests.Session()
        adapter = KgenAdapter(tls, pool_maxsize=2)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    # AuthProvider ---------------------------------------------------------------------------

    def authorize(self, headers: MutableMapping[str, str]) -> None:
        """Set ``Authorization: Bearer <id token>`` unless the request already has one.

        Blocks while a refresh runs; raises :class:`AuthProviderError` when there is no valid
        token and none can be had.
        """
        if any(name.lower() == "authorization" for name in headers):
            return
        headers["Authorization"] = f"Bearer {self.id_token()}"

    def client_certificate(self) -> tuple[bytes, bytes] | None:
        """Always ``None``: the provider gives tokens only."""
        return None

    def on_unauthorized(self) -> bool:
        """Returns ``False``: the 401 goes to the caller and the token is kept (as client-go)."""
        return False

    # Tokens ---------------------------------------------------------------------------------

    def id_token(self) -> str:
        """The current ID token, refreshed first when it has expired (see the module
        docstring). Raises :class:`AuthProviderError`."""
        with self._lock:
            token = self._config.get(ID_TOKEN, "")
            if token and self._valid(token):
                return token
            if not self._origin:
                self._config = self._refreshed(self._config)
                return self._config[ID_TOKEN]
            try:
                with locked(self._origin):
                    self._refresh_in_file()
            except KubeconfigError as exc:
                raise self._error(f"cannot update the kubeconfig with new tokens: {exc}") from None
            return self._config[ID_TOKEN]

    def _refresh_in_file(self) -> None:
        """Under the file lock: take a valid token another client stored, or refresh and
        store the new tokens (leaving ``self._config`` with the token to use)."""
        stored = read_auth_provider_config(self._origin, self._user)
        if stored is None:
            _log.warning(
                "user %r no longer has an auth provider in %s: refreshed tokens kept in memory",
                self._user,
                self._origin,
            )
            self._config = self._refreshed(self._config)
            return
        stored_token = stored.get(ID_TOKEN, "")
        if stored_token != self._config.get(ID_TOKEN) and self._usable(stored_token):
            self._config.update(
                {key: stored[key] for key in (ID_TOKEN, REFRESH_TOKEN) if stored.get(key)}
            )
            return
        if stored.get(REFRESH_TOKEN):
            stored_config = {**self._config, REFRESH_TOKEN: stored[REFRESH_TOKEN]}
        else:
            stored_config = self._config
        fresh = self._refreshed(stored_config)
        updates = {key: fresh[key] for key in (ID_TOKEN, REFRESH_TOKEN)}
        write_auth_provider_config(self._origin, self._user, {**stored, **updates})
        self._config = fresh

    def _usable(self, token: str) -> bool:
        """Whether ``token`` (stored by someone else) is a JWT that is still valid."""
        try:
            return bool(token) and id_token_valid(token, self._clock())
        except ValueError:
            return False

    def _valid(self, token: str) -> bool:
        try:
            return id_token_valid(token, self._clock())
        except ValueError as exc:
            raise self._error(str(exc)) from None

    def _error(self, message: str) -> AuthProviderError:
        return AuthProviderError(message, user=self._user, issuer=self._issuer, file=self._origin)

    # The refresh ----------------------------------------------------------------------------

    def _refreshed(self, config: Mapping[str, str]) -> dict[str, str]:
        """``config`` with the ID token (and refresh token) the issuer gives for its refresh
        token. Raises :class:`AuthProviderError`, also when it has no refresh token."""
        refresh_token = config.get(REFRESH_TOKEN, "")
        if not refresh_token:
            raise self._error("No valid id-token, and cannot refresh without refresh-token")
        try:
            token_url = self._token_endpoint()
            answer = self._token_request(token_url, config, refresh_token)
        except _Refused as exc:
            raise self._error(str(exc)) from None
        id_token = answer.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise self._error(_NO_ID_TOKEN)
        new_refresh = answer.get("refresh_token")
        _log.info("user %r: refreshed the ID token at %s", self._user, token_url)
        return {
            **config,
            ID_TOKEN: id_token,
            REFRESH_TOKEN: (
                new_refresh if isinstance(new_refresh, str) and new_refresh else refresh_token
            ),
        }

    def _token_endpoint(self) -> str:
        import requests

        well_known = self._issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            response = self._session.get(well_known, timeout=REQUEST_TIMEOUT)
        except requests.RequestException as exc:
            raise _Refused(f"cannot reach the issuer at {well_known}: {exc}") from None
        body = response.content
        if response.status_code != 200:
            excerpt = body[:_BODY_EXCERPT] + (b"..." if len(body) > _BODY_EXCERPT else b"")
            raise _Refused(
                f"oidc: failed to query metadata endpoint {response.status_code}"
                f" {response.reason}: {excerpt!r}"
            )
        try:
            metadata = json.loads(body)
        except ValueError as exc:
            raise _Refused(f"oidc: failed to decode provider discovery object: {exc}") from None
        token_url = metadata.get("token_endpoint") if isinstance(metadata, dict) else None
        if not isinstance(token_url, str) or not token_url:
            raise _Refused("oidc: discovery object doesn't contain a token_endpoint")
        return token_url

    def _token_request(
        self, token_url: str, config: Mapping[str, str], refresh_token: str
    ) -> dict[str, Any]:
        """POST the refresh grant: client credentials in a Basic header, then, if that fails,
        in the form. Returns the successful answer's fields."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        client_id, secret = config.get(CLIENT_ID, ""), config.get(CLIENT_SECRET, "")
        basic = base64.b64encode(f"{quote_plus(client_id)}:{quote_plus(secret)}".encode())
        try:
            return self._post(token_url, form, {"Authorization": "Basic " + basic.decode()})
        except _Refused as exc:
            _log.debug("token request with a Basic header failed (%s), trying the form", exc)
        in_form = dict(form)
        if client_id:
            in_form["client_id"] = client_id
        if secret:
            in_form["client_secret"] = secret
        try:
            return self._post(token_url, in_form, {})
        except _Refused as exc:
            raise _Refused(f"failed to refresh token: {exc}") from None

    def _post(self, url: str, form: dict[str, str], headers: dict[str, str]) -> dict[str, Any]:
        import requests

        try:
            response = self._session.post(url, data=form, headers=headers, timeout=REQUEST_TIMEOUT)
        except requests.RequestException as exc:
            raise _Refused(f"cannot reach the token endpoint {url}: {exc}") from None
        body = response.content[: 1 << 20]
        fields = _token_fields(body, response.headers.get("Content-Type", ""))
        failed = not 200 <= response.status_code <= 299
        if fields is None and not failed:
            raise _Refused(f"oauth2: cannot parse the token response: {body[:_BODY_EXCERPT]!r}")
        error = (fields or {}).get("error")
        if error:
            description = (fields or {}).get("error_description")
            quoted = [json.dumps(str(part)) for part in (error, description) if part]
            raise _Refused("oauth2: " + " ".join(quoted))
        if failed:
            status = f"{response.status_code} {response.reason}"
            raise _Refused(f"oauth2: cannot fetch token: {status}; response: {body[:400]!r}")
        assert fields is not None
        if not fields.get("access_token"):
            raise _Refused("oauth2: server response missing access_token")
        return fields


def _token_fields(body: bytes, content_type: str) -> dict[str, Any] | None:
    """The fields of a token response, or ``None`` when it does not parse."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type in ("application/x-www-form-urlencoded", "text/plain"):
        try:
            parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            return None
        return {key: values[0] for key, values in parsed.items()}
    try:
        fields = json.loads(body)
    except ValueError:
        return None
    return fields if isinstance(fields, dict) else None
