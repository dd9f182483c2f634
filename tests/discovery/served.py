"""Serve the real discovery documents of ``specs/kubernetes/discovery`` over HTTP.

``/apis`` answers with the real aggregated v2 document when the client accepts it, else with
the real legacy ``apis.json``; ``/api`` likewise, its aggregated form being built here from the
real ``api__v1.json``. ``/api/v1`` and ``/apis/apps/v1`` are the real legacy resource lists;
other group/versions answer 404 (so legacy discovery of them fails, as a broken aggregated
API server would make it). Tests may edit ``documents`` before serving.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from client.wire import Reply, Seen, status_reply

AGGREGATED_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def aggregated_from_legacy(group: str, version: str, legacy: dict[str, Any]) -> dict[str, Any]:
    """An aggregated ``APIGroupDiscoveryList`` holding one legacy ``APIResourceList``."""
    resources: dict[str, dict[str, Any]] = {}
    for entry in legacy["resources"]:
        parent, _, sub = entry["name"].partition("/")
        kind = {
            "group": entry.get("group", ""),
            "version": entry.get("version", ""),
            "kind": entry["kind"],
        }
        if not sub:
            resources[parent] = {
                "resource": parent,
                "responseKind": kind,
                "scope": "Namespaced" if entry["namespaced"] else "Cluster",
                "singularResource": entry["singularName"],
                "verbs": entry["verbs"],
                **({"shortNames": entry["shortNames"]} if "shortNames" in entry else {}),
                **({"categories": entry["categories"]} if "categories" in entry else {}),
            }
        else:
            resources[parent].setdefault("subresources", []).append(
                {"subresource": sub, "responseKind": kind, "verbs": entry["verbs"]}
            )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": [
            {
                "metadata": {"name": group},
                "versions": [
                    {
                        "version": version,
                        "resources": list(resources.values()),
                        "freshness": "Current",
                    }
                ],
            }
        ],
    }


@dataclass
class DiscoveryDocuments:
    """The documents served, by path; ``aggregated`` holds the aggregated form of a root."""

    legacy: dict[str, Any] = field(default_factory=dict)
    aggregated: dict[str, Any] = field(default_factory=dict)
    content_type: str = AGGREGATED_TYPE

    @classmethod
    def real(cls, specs_dir: Path) -> DiscoveryDocuments:
        folder = specs_dir / "kubernetes" / "discovery"

        def load(name: str) -> Any:
            return json.loads((folder / name).read_text())

        core = load("api__v1.json")
        return cls(
            legacy={
                "/api": load("api.json"),
                "/apis": load("apis.json"),
                "/api/v1": core,
                "/apis/apps/v1": load("apis__apps__v1.json"),
                "/version": {
                    "major": "1",
                    "minor": "33",
                    "gitVersion": "v1.33.0",
                    "platform": "linux/amd64",
                },
            },
            aggregated={
                "/api": aggregated_from_legacy("", "v1", core),
                "/apis": load("aggregated_v2.json"),
            },
        )

    def handle(self, seen: Seen) -> Reply:
        accept = seen.headers.get("accept", "")
        if "g=apidiscovery.k8s.io" in accept and seen.path in self.aggregated:
            return Reply(body=self.aggregated[seen.path], content_type=self.content_type)
        if seen.path in self.legacy:
            return Reply(body=self.legacy[seen.path])
        return status_reply(404, "NotFound", f"the server could not find {seen.path}")
