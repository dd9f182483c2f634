"""kube-apiserver's exact responses (issue 12): uids, DELETE bodies, CRD create, error bytes."""

from __future__ import annotations

from typing import Any

from kgen.testing import APIServer
from tests.testing.conftest import Client, small_model


def _first_uids(seed: int | None) -> list[str]:
    """The uids of the ``default`` namespace and of the first ConfigMap of a fresh server."""
    server = APIServer(small_model()) if seed is None else APIServer(small_model(), seed=seed)
    with server:
        client = Client(server)
        try:
            namespace = client.request("GET", "/api/v1/namespaces/default").json()
            created: Any = client.request(
                "POST",
                "/api/v1/namespaces/default/configmaps",
                json={"metadata": {"generateName": "cm-"}},
            ).json()
        finally:
            client.close()
    return [namespace["metadata"]["uid"], created["metadata"]["uid"], created["metadata"]["name"]]


def test_uids_differ_between_servers_by_default() -> None:
    first, second = _first_uids(None), _first_uids(None)
    assert first[0] != second[0] and first[1] != second[1]


def test_an_explicit_seed_makes_uids_and_generated_names_reproducible() -> None:
    assert _first_uids(7) == _first_uids(7)
    assert _first_uids(7)[:2] != _first_uids(8)[:2]
