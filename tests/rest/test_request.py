"""The Request builder and do()/Result over real HTTP on 127.0.0.1: paths, parameters,
headers, bodies, deferred builder errors and preflight checks (4.1.4-4.1.11, S62, S63, S67)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from kgen.meta import DeleteOptions, ObjectMeta, Status
from kgen.rest import (
    ListOptions,
    Request,
    RESTClient,
    StatusError,
    UnexpectedResponseError,
    is_internal_error,
    is_not_found,
)

from .models import Pod, pod_json
from .server import Handler, LoopbackServer, Reply

MakeClient = Callable[..., RESTClient]


def test_builder_calls_in_any_order_compose_the_path(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    client = make_client(server.url + "/test/")
    server.reply(200, b"{}")
    (
        client.get()
        .name("bar")
        .resource("baz")
        .namespace("foo")
        .suffix("test")
        .subresource("a", "b")
        .do()
    )
    assert server.requests[0].path == "/test/namespaces/foo/baz/bar/a/b/test"


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (
            lambda r: r.group_version("", "v1").namespace("ns").resource("Pods"),
            "/api/v1/namespaces/ns/pods",
        ),
        (
            lambda r: r.group_version("apps", "v1").resource("deployments").name("web"),
            "/apis/apps/v1/deployments/web",
        ),
        (lambda r: r.group_version("", "v1").namespace("").resource("pods"), "/api/v1/pods"),
        (
            lambda r: r.group_version("", "v1").resource("nodes").name("n1").subresource("status"),
            "/api/v1/nodes/n1/status",
        ),
        (lambda r: r.abs_path("/version"), "/version"),
        (lambda r: r.abs_path("/apis/"), "/apis/"),
        (lambda r: r.abs_path("openapi", "v3"), "/openapi/v3"),
        (lambda r: r.abs_path("/apis/", "apps/"), "/apis/apps"),
        (lambda r: r.abs_path("/api").suffix("/v1/", "x"), "/api/v1/x"),
        (
            lambda r: r.group_version("", "v1").resource("pods").name("a b:c"),
            "/api/v1/pods/a%20b:c",
        ),
    ],
)
def test_paths(server: LoopbackServer, make_client: MakeClient, build, path: str) -> None:  # type: ignore[no-untyped-def]
    server.reply(200, b"{}")
    build(make_client(server).get()).do()
    assert server.requests[0].target.split("?")[0] == path


def test_host_path_prefixes_every_request(server: LoopbackServer, make_client: MakeClient) -> None:
    client = make_client(server.url + "/cluster-a")
    server.reply(200, b"{}")
    server.reply(200, b"{}")
    client.get().group_version("", "v1").resource("pods").do()
    client.get().abs_path("/version").do()
    assert [r.path for r in server.requests] == ["/cluster-a/api/v1/pods", "/cluster-a/version"]


def test_params_are_sorted_multi_valued_and_include_go_timeout(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    server.reply(200, b"{}")
    (
        make_client(server)
        .get()
        .group_version("", "v1")
        .resource("pods")
        .param("z", "1")
        .param("dryRun", "All")
        .param("z", "2")
        .list_options(ListOptions(label_selector="app=web,tier in (a,b)", limit=5))
        .timeout(21)
        .do()
    )
    assert server.requests[0].raw_query == (
        "dryRun=All&labelSelector=app%3Dweb%2Ctier+in+%28a%2Cb%29&limit=5&timeout=21s&z=1&z=2"
    )


def test_config_timeout_is_sent_on_every_request_unless_cleared(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    client = make_client(server, timeout=300)
    server.reply(200, b"{}")
    server.reply(200, b"{}")
    client.get().abs_path("/a").do()
    client.get().abs_path("/b").timeout(0).do()
    assert server.requests[0].query["timeout"] == ["5m0s"]
    assert "timeout" not in server.requests[1].query


def test_default_headers(server: LoopbackServer, make_client: MakeClient) -> None:
    client = make_client(server, user_agent="my-controller/1.0")
    server.reply(200, b"{}")
    server.reply(200, b"{}")
    client.get().abs_path("/a").do()
    client.get().abs_path("/b").header("User-Agent", "mine").do()
    first, second = server.requests
    assert first.headers["Accept"] == "application/json, */*"
    assert first.headers["User-Agent"] == "my-controller/1.0"
    assert second.headers["User-Agent"] == "mine"
    assert "Authorization" not in first.headers


def test_default_user_agent_is_sent(server: LoopbackServer, make_client: MakeClient) -> None:
    server.reply(200, b"{}")
    make_client(server).get().abs_path("/a").do()
    assert server.requests[0].headers["User-Agent"].endswith("kgen/unknown")


def test_patch_sets_the_patch_content_type_and_keeps_it_for_model_bodies(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    server.reply(200, pod_json("web"))
    patch = {"metadata": {"labels": {"a": "b"}}}
    (
        make_client(server)
        .patch("application/merge-patch+json")
        .group_version("", "v1")
        .namespace("default")
        .resource("pods")
        .name("web")
        .body(patch)
        .do()
    )
    req = server.requests[0]
    assert (req.method, req.headers["Content-Type"]) == ("PATCH", "application/merge-patch+json")
    assert req.body == b'{"metadata":{"labels":{"a":"b"}}}'


def test_bodies(server: LoopbackServer, make_client: MakeClient, tmp_path: Path) -> None:
    client = make_client(server)
    file = tmp_path / "body.json"
    file.write_bytes(b'{"from":"file"}')
    for _ in range(4):
        server.reply(201, pod_json("web"))
    client.post().abs_path("/a").body(b"raw-bytes").do()
    client.post().abs_path("/a").body(file).do()
    client.post().abs_path("/a").body(Pod(metadata=ObjectMeta(name="web"))).do()
    client.delete().abs_path("/a").body(DeleteOptions(propagation_policy="Foreground")).do()
    bodies = [r.body for r in server.requests]
    assert bodies == [
        b"raw-bytes",
        b'{"from":"file"}',
        b'{"metadata":{"name":"web"}}',
        b'{"propagationPolicy":"Foreground"}',
    ]
    assert all(r.headers["Content-Type"] == "application/json" for r in server.requests)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda r: r.name("a").name("b"), "resource name already set to 'a'"),
        (lambda r: r.namespace("a").namespace("b"), "namespace already set"),
        (lambda r: r.resource("a").resource("b"), "resource already set"),
        (lambda r: r.subresource("a").subresource("b"), "subresource already set"),
        (lambda r: r.name(""), "resource name may not be empty"),
        (lambda r: r.name("."), "invalid resource name '.'"),
        (lambda r: r.namespace(".."), "invalid namespace '..'"),
        (lambda r: r.resource("test/segment"), "invalid resource 'test/segment'"),
        (lambda r: r.subresource("test%2bsegment"), "may not contain '%'"),
        (lambda r: r.body("a string"), "str is ambiguous"),
        (lambda r: r.body(object()), "unsupported type object"),
        (lambda r: r.body({"a": object()}), "cannot be encoded as JSON"),
        (lambda r: r.body(Path("/nonexistent/body")), "cannot read '/nonexistent/body'"),
    ],
)
def test_builder_errors_are_deferred_and_nothing_is_sent(
    server: LoopbackServer,
    make_client: MakeClient,
    build: Callable[[Request], Request],
    message: str,
) -> None:
    request = build(make_client(server).get())  # no exception while building
    with pytest.raises(ValueError, match=message):
        request.do()
    assert server.requests == []


@pytest.mark.parametrize(
    ("verb", "with_name", "fails"),
    [
        ("post", False, True),
        ("get", True, True),
        ("put", True, True),
        ("delete", True, True),
        ("get", False, False),
    ],
)
def test_preflight_of_an_explicit_empty_namespace(
    server: LoopbackServer, make_client: MakeClient, verb: str, with_name: bool, fails: bool
) -> None:
    request = getattr(make_client(server), verb)().namespace("").resource("pods")
    if with_name:
        request.name("web")
    server.reply(200, b"{}")
    if fails:
        with pytest.raises(ValueError, match="empty namespace"):
            request.do()
        assert server.requests == []
    else:
        request.do()
        assert server.requests[0].path == "/pods"


def test_no_namespace_set_passes_preflight_for_all_verbs(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    client = make_client(server)
    for verb in ("post", "get", "put", "delete"):
        server.reply(200, b"{}")
        getattr(client, verb)().resource("pods").name("web").do()
    assert [r.method for r in server.requests] == ["POST", "GET", "PUT", "DELETE"]


def test_result_into_typed_model_and_json(server: LoopbackServer, make_client: MakeClient) -> None:
    server.reply(201, pod_json("web", rv="7"))
    result = make_client(server).post().abs_path("/pods").body(b"{}").do()
    assert result.was_created and result.status_code == 201
    pod = result.into(Pod)
    assert isinstance(pod, Pod) and pod.metadata and pod.metadata.resource_version == "7"
    assert result.json()["spec"] == {"nodeName": "n1"}


def test_status_body_becomes_the_error(server: LoopbackServer, make_client: MakeClient) -> None:
    server.reply(
        404,
        b'{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound",'
        b'"message":"pods \\"web\\" not found","code":404,'
        b'"details":{"name":"web","kind":"pods"}}',
    )
    with pytest.raises(StatusError) as info:
        make_client(server).get().abs_path("/api/v1/namespaces/default/pods/web").do()
    err = info.value
    assert is_not_found(err) and err.code == 404 and str(err) == 'pods "web" not found'
    assert err.status.details and err.status.details.name == "web"


def test_text_500_becomes_internal_error_with_the_text(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    server.reply(500, b"boom", Content_Type="text/plain")
    with pytest.raises(StatusError) as info:
        make_client(server).get().resource("pods").name("web").do()
    assert is_internal_error(info.value) and "boom" in str(info.value)
    assert "(get pods web)" in str(info.value)


def test_empty_200_fails_into_but_not_do(server: LoopbackServer, make_client: MakeClient) -> None:
    server.reply(200, b"")
    result = make_client(server).get().abs_path("/a").do()
    assert result.body == b""
    with pytest.raises(UnexpectedResponseError, match="0-length response with status code 200"):
        result.into(Pod)


def test_success_body_holding_a_failure_status_raises_on_into(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    server.reply(200, b'{"kind":"Status","status":"Failure","reason":"Conflict","code":409}')
    server.reply(200, b'{"kind":"Status","status":"Success","code":200}')
    client = make_client(server)
    with pytest.raises(StatusError, match="Conflict"):
        client.delete().abs_path("/a").do().into(Pod)
    assert client.delete().abs_path("/a").do().into(Status).status == "Success"


def test_undecodable_body_keeps_it(server: LoopbackServer, make_client: MakeClient) -> None:
    server.reply(200, b'{"metadata": 5}')
    result = make_client(server).get().abs_path("/a").do()
    with pytest.raises(UnexpectedResponseError, match="does not decode as Pod") as info:
        result.into(Pod)
    assert info.value.body == b'{"metadata": 5}'


def test_stream_yields_the_body(server: LoopbackServer, make_client: MakeClient) -> None:
    server.handler = lambda req, h: h.stream([b"line 1\n", b"line 2\n"])
    chunks = make_client(server).get().abs_path("/api/v1/namespaces/a/pods/b/log").stream()
    assert b"".join(chunks) == b"line 1\nline 2\n"


def test_stream_error_is_decoded(server: LoopbackServer, make_client: MakeClient) -> None:
    server.reply(400, b'{"kind":"Status","status":"Failure","reason":"BadRequest","code":400}')
    with pytest.raises(StatusError, match="BadRequest"):
        make_client(server).get().abs_path("/log").stream()


def test_connections_are_reused(server: LoopbackServer, make_client: MakeClient) -> None:
    client = make_client(server)
    for _ in range(3):
        server.reply(200, pod_json("web"))
    client.get().abs_path("/a").do()
    client.get().abs_path("/a").do().into(Pod)
    list(client.get().abs_path("/a").stream())
    assert len({r.client_port for r in server.requests}) == 1


def test_truncated_body_is_a_connection_error(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    def truncated(request: object, handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        handler.wfile.write(b'{"kind":')
        handler.wfile.flush()
        handler.close_connection = True

    server.handler = truncated
    with pytest.raises(requests.RequestException):
        make_client(server).get().abs_path("/a").max_retries(0).do()


def test_stream_hands_out_data_as_it_arrives(
    server: LoopbackServer, make_client: MakeClient
) -> None:
    first_read = threading.Event()

    def follow(request: object, handler: Handler) -> None:
        def lines() -> Iterator[bytes]:
            yield b"first\n"
            first_read.wait(timeout=10)
            yield b"second\n"

        handler.stream(lines())

    server.handler = follow
    chunks = make_client(server).get().abs_path("/log").param("follow", "true").stream()
    assert next(chunks) == b"first\n"  # before the server sends anything more
    first_read.set()
    assert list(chunks) == [b"second\n"]


def test_one_client_shared_by_many_threads(server: LoopbackServer, make_client: MakeClient) -> None:
    server.handler = lambda req, h: h.answer(Reply(200, pod_json(req.path.rsplit("/", 1)[1])))
    client = make_client(server, bearer_token="tok")
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(15):
                name = f"p{worker}-{i}"
                pod = client.get().resource("pods").name(name).do().into(Pod)
                assert pod.metadata and pod.metadata.name == name
        except BaseException as err:  # reported below, in the test's thread
            errors.append(err)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(server.requests) == 120
    assert {r.headers["Authorization"] for r in server.requests} == {"Bearer tok"}


def test_connections_use_tcp_keepalive(server: LoopbackServer, make_client: MakeClient) -> None:
    # A transport detail with no public handle: look at the pooled connection itself.
    server.reply(200, b"{}")
    client = make_client(server)
    client.get().abs_path("/a").do()
    adapter = client._session.get_adapter(server.url)
    assert isinstance(adapter, requests.adapters.HTTPAdapter)
    pools = adapter.poolmanager.pools
    (pool,) = [pools[key] for key in pools.keys()]  # noqa: SIM118 - not iterable itself
    conn = pool._get_conn()
    try:
        sock = conn.sock
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        if hasattr(socket, "TCP_KEEPIDLE"):
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 30
    finally:
        pool._put_conn(conn)
