"""Pure behaviour of kgen.rest that needs no server: options, Go durations, user agent,
config validation and redaction, client limiter defaults, error synthesis and predicates."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kgen.meta import Status, StatusCause, StatusDetails
from kgen.rest import (
    Config,
    ImpersonationConfig,
    ListOptions,
    RESTClient,
    StatusError,
    TokenBucket,
    UnexpectedResponseError,
    build_user_agent,
    default_user_agent,
    go_duration,
)
from kgen.rest import errors as E


def test_empty_list_options_encode_nothing() -> None:
    assert ListOptions().to_params() == []


def test_list_options_use_server_names_and_omit_empty_values() -> None:
    opts = ListOptions(
        label_selector="app=web",
        field_selector="metadata.name=a",
        resource_version="10",
        resource_version_match="NotOlderThan",
        limit=500,
        continue_="tok",
        timeout_seconds=21,
        allow_watch_bookmarks=True,
        send_initial_events=False,
    )
    assert dict(opts.to_params()) == {
        "labelSelector": "app=web",
        "fieldSelector": "metadata.name=a",
        "resourceVersion": "10",
        "resourceVersionMatch": "NotOlderThan",
        "limit": "500",
        "continue": "tok",
        "timeoutSeconds": "21",
        "allowWatchBookmarks": "true",
        "sendInitialEvents": "false",
    }
    assert ListOptions(timeout_seconds=0).to_params() == [("timeoutSeconds", "0")]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (21, "21s"),
        (0, "0s"),
        (300, "5m0s"),
        (432, "7m12s"),
        (3600, "1h0m0s"),
        (3723.5, "1h2m3.5s"),
        (1.5, "1.5s"),
        (0.5, "500ms"),
        (0.0015, "1.5ms"),
        (0.000002, "2µs"),
        (0.000000005, "5ns"),
        (-2, "-2s"),
    ],
)
def test_go_duration_matches_go_formatting(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def test_user_agent_shape() -> None:
    assert (
        build_user_agent("lynx", "nicest", "beos", "itanium", "baaaaaaaaad")
        == "lynx/nicest (beos/itanium) kgen/baaaaaa"
    )
    assert build_user_agent("", "1.2.3-dirty", "", "", "") == (
        "unknown/1.2.3 (unknown/unknown) kgen/unknown"
    )
    ua = default_user_agent()
    assert "/" in ua and "(" in ua and ua.endswith("kgen/unknown")


@pytest.mark.parametrize(
    ("config", "limiter"),
    [
        (Config(), (5.0, 10)),
        (Config(qps=10), (10.0, 10)),
        (Config(qps=2, burst=3), (2.0, 3)),
        (Config(qps=-1), None),
    ],
)
def test_client_limiter_defaults(config: Config, limiter: tuple[float, int] | None) -> None:
    with RESTClient(config) as client:
        got = client.rate_limiter
        assert isinstance(got, TokenBucket | None)
        assert (None if got is None else (got.qps, got.burst)) == limiter


def test_custom_rate_limiter_is_used_as_given() -> None:
    class Custom:
        def wait(self) -> None:
            pass

    custom = Custom()
    with RESTClient(Config(qps=50, rate_limiter=custom)) as client:
        assert client.rate_limiter is custom
    assert "Custom" in repr(Config(rate_limiter=custom))


@pytest.mark.parametrize(
    ("config", "base"),
    [
        (Config(), "http://localhost"),
        (Config(host="10.0.0.1:6443"), "http://10.0.0.1:6443"),
        (Config(host="10.0.0.1:6443", insecure=True), "https://10.0.0.1:6443"),
        (Config(host="https://k.example/prefix/"), "https://k.example/prefix"),
        (Config(host="http://[::1]:8080"), "http://[::1]:8080"),
    ],
)
def test_base_url_rules(config: Config, base: str) -> None:
    with RESTClient(config) as client:
        assert client.base_url == base


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        (Config(host="ftp://x"), "Config.host"),
        (Config(host="http://x:notaport"), "Config.host"),
        (Config(host="http://x/?a=b"), "query"),
        (Config(bearer_token="t", username="u", password="p"), "not both"),
        (Config(ca_data=b"x", insecure=True), "insecure"),
        (Config(ca_data=b"not a pem"), "ca_data"),
        (Config(cert_data=b"x"), r"both cert_\* and key_\*"),
        (Config(ca_file="/nonexistent/ca.pem"), "ca_file"),
        (Config(bearer_token_file="/nonexistent/token"), "bearer_token_file"),
    ],
)
def test_unusable_config_fails_at_construction_naming_the_field(
    config: Config, fragment: str
) -> None:
    with pytest.raises(ValueError, match=fragment):
        RESTClient(config)


def test_config_repr_hides_secrets() -> None:
    config = Config(
        host="https://k",
        bearer_token="tok-SECRET",
        password="pw-SECRET",
        username="me",
        key_data=b"key-SECRET",
        cert_data=b"cert-SECRET",
        ca_data=b"ca-SECRET",
        proxy_url="http://user:proxy-SECRET@proxy:3128",
        impersonate=ImpersonationConfig(user="alice"),
    )
    text = repr(config)
    assert "SECRET" not in text
    assert "host='https://k'" in text and "username='me'" in text and "alice" in text
    assert "proxy:3128" in text


def test_config_copy_is_independent() -> None:
    config = Config(impersonate=ImpersonationConfig(groups=("a",), extra={"k": ("v",)}))
    copy = config.copy()
    copy.impersonate.extra["k2"] = ("x",)
    copy.host = "other"
    assert config.impersonate.extra == {"k": ("v",)} and config.host == ""


def _status(reason: str, code: int, **details: object) -> StatusError:
    return StatusError(
        Status(status="Failure", reason=reason or None, code=code, details=StatusDetails(**details))  # type: ignore[arg-type]
    )


PREDICATES = {
    E.is_not_found: ("NotFound", 404),
    E.is_conflict: ("Conflict", 409),
    E.is_gone: ("Gone", 410),
    E.is_too_many_requests: ("TooManyRequests", 429),
    E.is_forbidden: ("Forbidden", 403),
    E.is_unauthorized: ("Unauthorized", 401),
    E.is_invalid: ("Invalid", 422),
    E.is_timeout: ("Timeout", 504),
    E.is_bad_request: ("BadRequest", 400),
    E.is_method_not_supported: ("MethodNotAllowed", 405),
    E.is_service_unavailable: ("ServiceUnavailable", 503),
    E.is_internal_error: ("InternalError", 500),
}


@pytest.mark.parametrize("predicate", list(PREDICATES), ids=lambda p: p.__name__)
def test_predicates_match_reason_or_unknown_reason_with_code(predicate) -> None:  # type: ignore[no-untyped-def]
    reason, code = PREDICATES[predicate]
    assert predicate(_status(reason, 200))
    assert predicate(_status("", code))
    assert predicate(_status("SomethingNew", code))
    # a known, different reason wins over the code
    other = "Conflict" if reason != "Conflict" else "NotFound"
    assert not predicate(_status(other, code))
    assert not predicate(ValueError("x"))
    assert predicate(UnexpectedResponseError("x", status_code=code))


def test_reason_only_predicates() -> None:
    assert E.is_already_exists(_status("AlreadyExists", 409))
    assert not E.is_already_exists(_status("", 409))
    assert E.is_resource_expired(_status("Expired", 410))
    assert not E.is_resource_expired(_status("", 410))
    assert E.is_server_timeout(_status("ServerTimeout", 500))
    assert not E.is_server_timeout(_status("", 504))


@pytest.mark.parametrize(
    "err",
    [
        _status("Timeout", 504, causes=(StatusCause(reason="ResourceVersionTooLarge"),)),
        _status("Expired", 410, causes=(StatusCause(reason="ResourceVersionTooLarge"),)),
        _status("", 500, causes=(StatusCause(reason="ResourceVersionTooLarge"),)),
        _status("Timeout", 504, causes=(StatusCause(message="Too large resource version"),)),
        _status("", 504, causes=(StatusCause(message="Too large resource version"),)),
        E.StatusError(
            Status(reason="Timeout", code=504, message="Timeout: Too large resource version")
        ),
    ],
    ids=[
        "cause-under-timeout",
        "cause-under-expired",
        "cause-without-reason",
        "timeout-cause-message",
        "504-cause-message",
        "timeout-status-message",
    ],
)
def test_too_large_resource_version_shapes(err: StatusError) -> None:
    assert E.is_too_large_resource_version(err)


@pytest.mark.parametrize(
    "err",
    [
        _status("Timeout", 504),
        _status("Timeout", 504, causes=(StatusCause(reason="FieldValueInvalid", message="x"),)),
        _status("NotFound", 404, causes=(StatusCause(message="Too large resource version"),)),
        E.StatusError(Status(reason="Gone", code=410, message="Too large resource version")),
        UnexpectedResponseError("Too large resource version", status_code=504),
        ValueError("Too large resource version"),
    ],
    ids=[
        "plain-timeout",
        "other-cause",
        "message-cause-not-timeout",
        "message-not-timeout",
        "unexpected-response",
        "not-api-error",
    ],
)
def test_not_too_large_resource_version(err: BaseException) -> None:
    assert not E.is_too_large_resource_version(err)


def test_status_error_exposes_code_reason_retry_after() -> None:
    err = _status("TooManyRequests", 429, retry_after_seconds=7)
    assert (err.code, err.reason, err.retry_after_seconds) == (429, "TooManyRequests", 7)


@pytest.mark.parametrize(
    ("code", "method", "reason"),
    [
        (409, "POST", "AlreadyExists"),
        (409, "PUT", "Conflict"),
        (404, "GET", "NotFound"),
        (400, "GET", "BadRequest"),
        (401, "GET", "Unauthorized"),
        (403, "GET", "Forbidden"),
        (405, "GET", "MethodNotAllowed"),
        (406, "GET", "NotAcceptable"),
        (415, "GET", "UnsupportedMediaType"),
        (422, "GET", "Invalid"),
        (429, "GET", "TooManyRequests"),
        (503, "GET", "ServiceUnavailable"),
        (504, "GET", "Timeout"),
        (500, "GET", "InternalError"),
        (502, "GET", "InternalError"),
    ],
)
def test_error_synthesized_from_code(code: int, method: str, reason: str) -> None:
    err = E.error_for_response(code, method, b"", resource="pods", name="web")
    assert isinstance(err, StatusError)
    assert (err.code, err.reason) == (code, reason)
    assert str(err).endswith(f"({method.lower()} pods web)")


def test_forbidden_keeps_server_text_and_unknown_codes_keep_the_body() -> None:
    err = E.error_for_response(403, "GET", b"user x cannot list pods", content_type="text/plain")
    assert isinstance(err, StatusError) and str(err) == "user x cannot list pods"
    odd = E.error_for_response(418, "GET", b"teapot", content_type="text/plain")
    assert isinstance(odd, UnexpectedResponseError)
    assert (odd.status_code, odd.body) == (418, b"teapot")


def test_errors_survive_pickling() -> None:
    import pickle

    err = _status("NotFound", 404, name="web")
    copy = pickle.loads(pickle.dumps(err))
    assert E.is_not_found(copy) and copy.status == err.status and str(copy) == str(err)
    odd = UnexpectedResponseError("odd", status_code=418, body=b"tea", content_type="text/plain")
    back = pickle.loads(pickle.dumps(odd))
    assert (str(back), back.status_code, back.body, back.content_type) == (
        "odd",
        418,
        b"tea",
        "text/plain",
    )


def _parse_go_duration(text: str) -> int:
    """Nanoseconds of a Go duration string (the inverse of go_duration, for checking)."""
    import re

    units = {"h": 3600 * 10**9, "m": 60 * 10**9, "s": 10**9, "ms": 10**6, "µs": 10**3, "ns": 1}
    sign = -1 if text.startswith("-") else 1
    total = 0
    for number, unit in re.findall(r"([0-9.]+)(h|ms|m|µs|ns|s)", text.lstrip("-")):
        whole, _, frac = number.partition(".")
        scale = units[unit]
        total += int(whole) * scale + (int(frac) * scale // 10 ** len(frac) if frac else 0)
    return sign * total


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_go_duration_round_trips(ns: int) -> None:
    assert _parse_go_duration(go_duration(ns / 1e9)) == round(ns / 1e9 * 1e9)


@given(st.text(min_size=1).filter(lambda s: s not in (".", "..") and not set("/%") & set(s)))
def test_any_valid_name_survives_url_quoting(name: str) -> None:
    with RESTClient(Config(host="http://h")) as client:
        url = client.get().group_version("", "v1").resource("pods").name(name).url()
    parts = urlsplit(url)
    assert parts.query == "" and unquote(parts.path) == "/api/v1/pods/" + name
