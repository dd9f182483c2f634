"""Replayed watch history: each event carries the resourceVersion of its own change."""

from __future__ import annotations

import json
from typing import Any

from tests.testing.conftest import Client


def test_history_events_keep_their_own_resource_version(client: Client, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    start = client.request("GET", path).json()["metadata"]["resourceVersion"]
    created = client.request("POST", path, json={"metadata": {"name": "a"}}).json()
    created["data"] = {"x": "1"}
    updated = client.request("PUT", f"{path}/a", json=created).json()
    assert client.request("DELETE", f"{path}/a").status_code == 200
    response = client.request(
        "GET", path, params={"watch": "true", "resourceVersion": start}, stream=True
    )
    events: list[dict[str, Any]] = []
    with response:
        for line in response.iter_lines():
            events.append(json.loads(line))
            if len(events) == 3:
                break
    # Deleting the object must not rewrite the MODIFIED event already in the history.
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert versions[:2] == [
        int(created["metadata"]["resourceVersion"]),
        int(updated["metadata"]["resourceVersion"]),
    ]
    assert versions[0] < versions[1] < versions[2]
