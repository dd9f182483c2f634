"""A caller-supplied requests.Session (how fake clientsets plug an in-process transport in):
every request, watch and stream goes through its adapters, with kgen's headers, credentials
and error mapping still applied."""

from __future__ import annotations

import io
import itertools
from typing import Any

import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from requests.adapters import BaseAdapter

from kgen.rest import Config, RESTClient, StatusError, is_conflict

from .models import Pod, pod_json


class Chunks:
    """A response body that arrives in the given pieces, one per read."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = list(pieces)

    def read1(self, size: int = -1) -> bytes:
        return self.pieces.pop(0) if self.pieces else b""

    def close(self) -> None:
        pass


class InProcessAdapter(BaseAdapter):
    """Answers from a script without any socket; records the prepared requests it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []
        self.answers: list[tuple[int, bytes | list[bytes]]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.sent.append(request)
        status, body = self.answers.pop(0)
        response = requests.Response()
        response.status_code = status
        response.headers["Content-Type"] = "application/json"
        if isinstance(body, list):
            response.raw = Chunks(body)
        else:
            response.raw = io.BufferedReader(io.BytesIO(body))
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


def _client(adapter: InProcessAdapter, **fields: Any) -> RESTClient:
    session = requests.Session()
    session.mount("https://", adapter)
    return RESTClient(Config(host="https://fake.invalid", qps=-1, **fields), session=session)


def test_do_goes_through_the_callers_session() -> None:
    adapter = InProcessAdapter()
    adapter.answers.append((200, pod_json("web")))
    client = _client(adapter, bearer_token="tok")
    pod = client.get().group_version("", "v1").namespace("ns").resource("pods").name("web").do()
    assert pod.into(Pod).metadata.name == "web"  # type: ignore[union-attr]
    sent = adapter.sent[0]
    assert sent.url == "https://fake.invalid/api/v1/namespaces/ns/pods/web"
    assert sent.headers["Authorization"] == "Bearer tok"
    client.close()  # a caller's session stays usable
    adapter.answers.append((200, b"{}"))
    client.get().abs_path("/a").do()


def test_errors_and_watches_through_the_callers_session() -> None:
    adapter = InProcessAdapter()
    adapter.answers.append(
        (409, b'{"kind":"Status","status":"Failure","reason":"Conflict","code":409}')
    )
    adapter.answers.append(
        (
            200,
            b'{"type":"ADDED","object":%s}\n{"type":"DELETED","object":%s}\n'
            % (pod_json("a"), pod_json("a")),
        )
    )
    client = _client(adapter)
    try:
        client.put().abs_path("/a").body(b"{}").do()
    except StatusError as err:
        assert is_conflict(err)
    else:
        raise AssertionError("expected a conflict")
    events = [(e.type, e.object.metadata.name) for e in client.get().abs_path("/p").watch(Pod)]  # type: ignore[union-attr]
    assert events == [("ADDED", "a"), ("DELETED", "a")]


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True), min_size=1, max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=12),
    blank_lines=st.booleans(),
)
def test_watch_frames_survive_any_chunking(
    names: list[str], cuts: list[int], blank_lines: bool
) -> None:
    stream = b"".join(
        b'{"type":"ADDED","object":%s}\n%s' % (pod_json(n), b"\n" if blank_lines else b"")
        for n in names
    )
    bounds = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})
    pieces = [stream[a:b] for a, b in itertools.pairwise(bounds)]
    adapter = InProcessAdapter()
    adapter.answers.append((200, pieces))
    with _client(adapter) as client:
        got = [e.object.metadata.name for e in client.get().abs_path("/w").watch(Pod)]  # type: ignore[union-attr]
    assert got == names
