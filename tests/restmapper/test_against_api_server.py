"""Discovery and REST mapping of a live (in-process) server with CRDs installed."""

from __future__ import annotations

from pathlib import Path

from client.apiserver import running_api

from kgen.client import GroupKind, GroupVersionResource
from kgen.discovery import DiscoveryClient, new_cached_discovery_client
from kgen.restmapper import DeferredDiscoveryRESTMapper, RESTScope


def test_crds_are_discovered_and_mapped_by_short_name(specs_dir: Path, tmp_path: Path) -> None:
    with running_api(specs_dir) as (server, rest):
        groups, resources = DiscoveryClient(rest).server_groups_and_resources()
        assert [path for _, path in server.requests] == ["/api", "/apis"]  # aggregated answers
        names = [g.name for g in groups]
        assert names[0] == "" and {"apps", "cert-manager.io", "acme.cert-manager.io"} <= set(names)
        assert "certificates" in next(
            [r.name for r in rl.resources]
            for rl in resources
            if rl.group_version == "cert-manager.io/v1"
        )

        mapper = DeferredDiscoveryRESTMapper(new_cached_discovery_client(rest, tmp_path))
        assert mapper.resource_for(GroupVersionResource("", "", "cert")) == GroupVersionResource(
            "cert-manager.io", "v1", "certificates"
        )
        issuer = mapper.rest_mapping(GroupKind("cert-manager.io", "ClusterIssuer"))
        assert issuer.resource.resource == "clusterissuers"
        assert issuer.scope is RESTScope.ROOT
        assert mapper.kind_for(GroupVersionResource("", "", "deployment")).kind == "Deployment"
