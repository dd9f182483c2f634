"""kgen.pager: client-go's ListPager over typed, dynamic and lister-watcher list functions,
with the full-list fallback when the server compacts away a continue token's snapshot."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from kgen.cache import ListWatch
from kgen.client import ResourceClient
from kgen.dynamic import DynamicResourceClient
from kgen.meta import list_items, meta_name
from kgen.pager import DEFAULT_PAGE_SIZE, ListPager
from kgen.rest import ListOptions, StatusError, is_resource_expired
from kgen.testing import APIServer

from .conftest import ConfigMap, ConfigMapList, configmap, create_configmaps


def list_queries(server: APIServer) -> list[dict[str, list[str]]]:
    """The query of every ConfigMap list request the server has served, in order."""
    return [
        parse_qs(urlsplit(path).query)
        for method, path in server.requests
        if method == "GET" and urlsplit(path).path.endswith("/configmaps")
    ]


def test_list_gathers_every_page_from_each_kind_of_list_function(
    server: APIServer,
    configmaps: DynamicResourceClient,
    typed_configmaps: ResourceClient[ConfigMap, ConfigMapList],
) -> None:
    names = create_configmaps(configmaps, 23)
    sources: list[Any] = [
        configmaps.list_with,
        typed_configmaps.list_with,
        ListWatch.from_client(typed_configmaps).list,
    ]
    for page_fn in sources:
        before = len(list_queries(server))
        result = ListPager(page_fn, page_size=10).list()
        assert [meta_name(item) for item in result.items] == names
        assert result.paginated
        assert result.resource_version == str(int(result.resource_version))
        queries = list_queries(server)[before:]
        assert [q["limit"] for q in queries] == [["10"]] * 3
        assert "continue" not in queries[0] and all("continue" in q for q in queries[1:])
    assert isinstance(ListPager(typed_configmaps.list_with).list().items[0], ConfigMap)


def test_default_page_size_and_single_page(
    server: APIServer, configmaps: DynamicResourceClient
) -> None:
    create_configmaps(configmaps, 3)
    result = ListPager(configmaps.list_with).list(ListOptions(label_selector=""))
    assert len(result.items) == 3 and not result.paginated
    assert list_queries(server)[-1]["limit"] == [str(DEFAULT_PAGE_SIZE)] == ["500"]
    # The caller's own limit wins; page size 0 asks for everything at once.
    ListPager(configmaps.list_with).list(ListOptions(limit=2))
    assert list_queries(server)[-2]["limit"] == ["2"]
    assert len(ListPager(configmaps.list_with, page_size=0).list().items) == 3
    assert "limit" not in list_queries(server)[-1]


def test_continuation_clears_the_resource_version(
    server: APIServer, configmaps: DynamicResourceClient
) -> None:
    create_configmaps(configmaps, 5)
    rv = configmaps.list()["metadata"]["resourceVersion"]
    options = ListOptions(resource_version=rv, resource_version_match="NotOlderThan")
    assert len(ListPager(configmaps.list_with, page_size=2).list(options).items) == 5
    first, *rest = list_queries(server)[-3:]
    assert first["resourceVersion"] == [rv] and first["resourceVersionMatch"] == ["NotOlderThan"]
    assert all("resourceVersion" not in q and "resourceVersionMatch" not in q for q in rest)


class CompactingLister:
    """Lists through ``client``; after the first page another writer changes the collection
    and the server compacts its history, so the next continue token is expired."""

    def __init__(self, server: APIServer, client: DynamicResourceClient) -> None:
        self.server = server
        self.client = client
        self.calls: list[ListOptions] = []

    def __call__(self, options: ListOptions) -> dict[str, Any]:
        self.calls.append(options)
        page = self.client.list_with(options)
        if len(self.calls) == 1:
            self.client.delete("cm-001")  # already handed out in this page
            self.client.create(configmap("cm-100"))  # would come on a later page
            changed = self.client.get("cm-015")
            changed["data"] = {"n": "changed"}
            self.client.update(changed)
            self.server.compact()
        return page


def test_list_falls_back_to_one_full_list_when_a_continue_token_expires(
    server: APIServer, configmaps: DynamicResourceClient
) -> None:
    names = create_configmaps(configmaps, 25)
    lister = CompactingLister(server, configmaps)
    rv_before = configmaps.list()["metadata"]["resourceVersion"]
    options = ListOptions(resource_version=rv_before, resource_version_match="NotOlderThan")
    result = ListPager(lister, page_size=10).list(options)
    # The second page got 410 Expired; the fallback asked for everything at the requested
    # resourceVersion, and the result is that one snapshot: each object exactly once, with
    # the writer's changes, nothing from the abandoned first page.
    assert [(o.limit, o.continue_ != "", o.resource_version) for o in lister.calls] == [
        (10, False, rv_before),
        (10, True, ""),
        (0, False, rv_before),
    ]
    assert lister.calls[2].resource_version_match == "NotOlderThan"
    expected = sorted([n for n in names if n != "cm-001"] + ["cm-100"])
    assert [meta_name(item) for item in result.items] == expected
    assert [i["data"]["n"] for i in result.items if meta_name(i) == "cm-015"] == ["changed"]
    assert result.paginated  # as client-go: the server did split the answer
    assert int(result.resource_version) > int(rv_before)


def test_expired_token_is_raised_without_fallback(
    server: APIServer, configmaps: DynamicResourceClient
) -> None:
    create_configmaps(configmaps, 25)
    with pytest.raises(StatusError) as caught:
        ListPager(CompactingLister(server, configmaps), 10, full_list_if_expired=False).list()
    assert is_resource_expired(caught.value) and caught.value.code == 410
    # Item and chunk callbacks have handed out a page already: they raise too.
    configmaps.create(configmap("cm-001"))  # undo the writer, so that it can write again
    configmaps.delete("cm-100")
    seen: list[str] = []
    with pytest.raises(StatusError) as again:
        ListPager(CompactingLister(server, configmaps), page_size=10).each_list_item(
            None, lambda item: seen.append(meta_name(item))
        )
    assert is_resource_expired(again.value)
    assert len(seen) == 10


def test_each_list_chunk_and_item_hold_one_page_at_a_time(
    server: APIServer,
    configmaps: DynamicResourceClient,
    typed_configmaps: ResourceClient[ConfigMap, ConfigMapList],
) -> None:
    names = create_configmaps(configmaps, 23)
    chunks: list[int] = []
    ListPager(typed_configmaps.list_with, page_size=10).each_list_chunk(
        None, lambda page: chunks.append(len(page.items))
    )
    assert chunks == [10, 10, 3]
    seen: list[str] = []
    ListPager(configmaps.list_with, page_size=7).each_list_item(
        ListOptions(), lambda item: seen.append(meta_name(item))
    )
    assert seen == names
    # pages() fetches lazily: stopping early sends no further request.
    before = len(list_queries(server))
    pages = ListPager(configmaps.list_with, page_size=5).pages()
    assert [meta_name(i) for i in list_items(next(pages))] == names[:5]
    pages.close()
    assert len(list_queries(server)) == before + 1

    # An error of the callback stops the paging and propagates.
    def stop_at_twelve(item: Any) -> None:
        if meta_name(item) == "cm-012":
            raise LookupError("found it")

    with pytest.raises(LookupError, match="found it"):
        ListPager(configmaps.list_with, page_size=5).each_list_item(None, stop_at_twelve)
    with pytest.raises(ValueError, match="page_size"):
        ListPager(configmaps.list_with, page_size=-1)
