"""Hand-written apimachinery ``meta/v1`` types shared by the runtime and every generated package.

Generated packages import these instead of emitting their own copies, so that a Lister of a CRD
and a Lister of Pods hand out the same ``ObjectMeta`` type. Field conventions: see
:mod:`kgen.meta._model`.
"""

from __future__ import annotations

import msgspec

from kgen.meta._model import UNSET, FieldsV1, Model, Time, UnsetType

__all__ = [
    "APIGroup",
    "APIGroupList",
    "APIResource",
    "APIResourceList",
    "APIVersions",
    "Condition",
    "DeleteOptions",
    "GroupVersionForDiscovery",
    "LabelSelector",
    "LabelSelectorRequirement",
    "ListMeta",
    "ManagedFieldsEntry",
    "ObjectMeta",
    "OwnerReference",
    "PartialObjectMetadata",
    "PartialObjectMetadataList",
    "Preconditions",
    "ServerAddressByClientCIDR",
    "Status",
    "StatusCause",
    "StatusDetails",
]


class OwnerReference(Model, kw_only=True):
    """OwnerReference contains enough information to let you identify an owning object."""

    api_version: str = msgspec.field(name="apiVersion")
    kind: str
    name: str
    uid: str
    block_owner_deletion: bool | None | UnsetType = msgspec.field(
        name="blockOwnerDeletion", default=UNSET
    )
    controller: bool | None | UnsetType = UNSET


class ManagedFieldsEntry(Model, kw_only=True):
    """The workflow-id and version of a field set that a manager owns."""

    api_version: str | None | UnsetType = msgspec.field(name="apiVersion", default=UNSET)
    fields_type: str | None | UnsetType = msgspec.field(name="fieldsType", default=UNSET)
    fields_v1: FieldsV1 | UnsetType = msgspec.field(name="fieldsV1", default=UNSET)
    """Raw JSON (an explicit null stays the raw `null`); see :data:`kgen.meta.FieldsV1`."""
    manager: str | None | UnsetType = UNSET
    operation: str | None | UnsetType = UNSET
    subresource: str | None | UnsetType = UNSET
    time: Time | None | UnsetType = UNSET

    def __post_init__(self) -> None:
        # A decoded Raw is a view into the whole response body; copying it lets the body go
        # (a cached object would otherwise keep its list page or watch event alive).
        if isinstance(self.fields_v1, msgspec.Raw):
            self.fields_v1 = self.fields_v1.copy()


class ObjectMeta(Model, kw_only=True):
    """Metadata that all persisted resources must have."""

    annotations: dict[str, str] | None | UnsetType = UNSET
    cluster_name: str | None | UnsetType = msgspec.field(name="clusterName", default=UNSET)
    creation_timestamp: Time | None | UnsetType = msgspec.field(
        name="creationTimestamp", default=UNSET
    )
    deletion_grace_period_seconds: int | None | UnsetType = msgspec.field(
        name="deletionGracePeriodSeconds", default=UNSET
    )
    deletion_timestamp: Time | None | UnsetType = msgspec.field(
        name="deletionTimestamp", default=UNSET
    )
    finalizers: tuple[str, ...] | None | UnsetType = UNSET
    generate_name: str | None | UnsetType = msgspec.field(name="generateName", default=UNSET)
    generation: int | None | UnsetType = UNSET
    labels: dict[str, str] | None | UnsetType = UNSET
    managed_fields: tuple[ManagedFieldsEntry, ...] | None | UnsetType = msgspec.field(
        name="managedFields", default=UNSET
    )
    name: str | None | UnsetType = UNSET
    namespace: str | None | UnsetType = UNSET
    owner_references: tuple[OwnerReference, ...] | None | UnsetType = msgspec.field(
        name="ownerReferences", default=UNSET
    )
    resource_version: str | None | UnsetType = msgspec.field(name="resourceVersion", default=UNSET)
    self_link: str | None | UnsetType = msgspec.field(name="selfLink", default=UNSET)
    uid: str | None | UnsetType = UNSET


class ListMeta(Model, kw_only=True):
    """Metadata that synthetic resources (lists) must have."""

    continue_: str | None | UnsetType = msgspec.field(name="continue", default=UNSET)
    remaining_item_count: int | None | UnsetType = msgspec.field(
        name="remainingItemCount", default=UNSET
    )
    resource_version: str | None | UnsetType = msgspec.field(name="resourceVersion", default=UNSET)
    self_link: str | None | UnsetType = msgspec.field(name="selfLink", default=UNSET)


class PartialObjectMetadata(Model, kw_only=True, forbid_unknown_fields=False):
    """Any object reduced to its metadata (``meta.k8s.io/v1``), what a metadata client reads.

    Decoding a whole object into this type keeps its ``apiVersion``, ``kind`` and ``metadata``
    and skips the rest, so a full object and a served ``PartialObjectMetadata`` both decode.
    """

    api_version: str | None | UnsetType = msgspec.field(name="apiVersion", default=UNSET)
    kind: str | None | UnsetType = UNSET
    metadata: ObjectMeta | None | UnsetType = UNSET


class PartialObjectMetadataList(Model, kw_only=True, forbid_unknown_fields=False):
    """A list of :class:`PartialObjectMetadata`; ``metadata`` keeps the list's
    ``resourceVersion`` and ``continue``."""

    items: tuple[PartialObjectMetadata, ...] = ()
    api_version: str | None | UnsetType = msgspec.field(name="apiVersion", default=UNSET)
    kind: str | None | UnsetType = UNSET
    metadata: ListMeta | None | UnsetType = UNSET


class StatusCause(Model, kw_only=True):
    """More information about one cause of a failed API call."""

    field: str | None | UnsetType = UNSET
    message: str | None | UnsetType = UNSET
    reason: str | None | UnsetType = UNSET


class StatusDetails(Model, kw_only=True):
    """Extra, reason-specific data of a Status."""

    causes: tuple[StatusCause, ...] | None | UnsetType = UNSET
    group: str | None | UnsetType = UNSET
    kind: str | None | UnsetType = UNSET
    name: str | None | UnsetType = UNSET
    retry_after_seconds: int | None | UnsetType = msgspec.field(
        name="retryAfterSeconds", default=UNSET
    )
    uid: str | None | UnsetType = UNSET


class Status(Model, kw_only=True):
    """The result of an API call that does not return an object."""

    api_version: str | None | UnsetType = msgspec.field(name="apiVersion", default=UNSET)
    code: int | None | UnsetType = UNSET
    details: StatusDetails | None | UnsetType = UNSET
    kind: str | None | UnsetType = UNSET
    message: str | None | UnsetType = UNSET
    metadata: ListMeta | None | UnsetType = UNSET
    reason: str | None | UnsetType = UNSET
    status: str | None | UnsetType = UNSET


class Preconditions(Model, kw_only=True):
    """Conditions that must hold before an operation (delete) is carried out."""

    resource_version: str | None | UnsetType = msgspec.field(name="resourceVersion", default=UNSET)
    uid: str | None | UnsetType = UNSET


class DeleteOptions(Model, kw_only=True):
    """Options of a delete request."""

    api_version: str | None | UnsetType = msgspec.field(name="apiVersion", default=UNSET)
    dry_run: tuple[str, ...] | None | UnsetType = msgspec.field(name="dryRun", default=UNSET)
    grace_period_seconds: int | None | UnsetType = msgspec.field(
        name="gracePeriodSeconds", default=UNSET
    )
    ignore_store_read_error_with_cluster_breaking_potential: bool | None | UnsetType = (
        msgspec.field(name="ignoreStoreReadErrorWithClusterBreakingPotential", default=UNSET)
    )
    kind: str | None | UnsetType = UNSET
    orphan_dependents: bool | None | UnsetType = msgspec.field(
        name="orphanDependents", default=UNSET
    )
    preconditions: Preconditions | None | UnsetType = UNSET
    propagation_policy: str | None | UnsetType = msgspec.field(
        name="propagationPolicy", default=UNSET
    )


class LabelSelectorRequirement(Model, kw_only=True):
    """One requirement of a label selector: a key, an operator and values."""

    key: str
    operator: str
    values: tuple[str, ...] | None | UnsetType = UNSET


class LabelSelector(Model, kw_only=True):
    """A label query over a set of resources."""

    match_expressions: tuple[LabelSelectorRequirement, ...] | None | UnsetType = msgspec.field(
        name="matchExpressions", default=UNSET
    )
    match_labels: dict[str, str] | None | UnsetType = msgspec.field(
        name="matchLabels", default=UNSET
    )


class Condition(Model, kw_only=True):
    """One aspect of the current state of a resource."""

    last_transition_time: Time | None = msgspec.field(name="lastTransitionTime")
    message: str
    reason: str
    status: str
    type: str
    observed_generation: int | None | UnsetType = msgspec.field(
        name="observedGeneration", default=UNSET
    )


class GroupVersionForDiscovery(Model, kw_only=True):
    """A group/version a server serves."""

    group_version: str = msgspec.field(name="groupVersion")
    version: str


class ServerAddressByClientCIDR(Model, kw_only=True):
    """The address a client should use for a CIDR."""

    client_cidr: str = msgspec.field(name="clientCIDR")
    server_address: str = msgspec.field(name="serverAddress")


class APIGroup(Model, kw_only=True):
    """A group's name, its versions and the preferred one (discovery)."""

    name: str
    versions: tuple[GroupVersionForDiscovery, ...]
    api_version: str | None | UnsetType = msgspec.field(name="apiVersion", default=UNSET)
    kind: str | None | UnsetType = UNSET
    preferred_version: GroupVersionForDiscovery | None | UnsetType = msgspec.field(
        name="preferredVersion", default=UNSET
    )
    server_address_by_client_cidrs: tuple[ServerAddressByClientCIDR, ...] | None | UnsetType = (
        msgspec.field(name="serverAddressByClientCIDRs", default=UNSET)
    )


class APIGroupList(Model, kw_only=True):
    """The groups a server serves (``/apis``)."""

    groups: tuple[APIGroup, ...]
    api_version: str | None | UnsetType = msgspec.field(name="apiVersion", default=UNSET)
    kind: str | None | UnsetType = UNSET


class APIVersions(Model, kw_only=True):
    """The versions of the legacy core group (``/api``)."""

    versions: tuple[str, ...]
    api_version: str | None | UnsetType = msgspec.field(name="apiVersion", default=UNSET)
    kind: str | None | UnsetType = UNSET
    server_address_by_client_cidrs: tuple[ServerAddressByClientCIDR, ...] | None | UnsetType = (
        msgspec.field(name="serverAddressByClientCIDRs", default=UNSET)
    )


class APIResource(Model, kw_only=True):
    """One resource of a group/version (discovery)."""

    kind: str
    name: str
    namespaced: bool
    singular_name: str = msgspec.field(name="singularName")
    verbs: tuple[str, ...]
    categories: tuple[str, ...] | None | UnsetType = UNSET
    group: str | None | UnsetType = UNSET
    short_names: tuple[str, ...] | None | UnsetType = msgspec.field(
        name="shortNames", default=UNSET
    )
    storage_version_hash: str | None | UnsetType = msgspec.field(
        name="storageVersionHash", default=UNSET
    )
    version: str | None | UnsetType = UNSET


class APIResourceList(Model, kw_only=True):
    """The resources of one group/version (``/apis/<group>/<version>``)."""

    group_version: str = msgspec.field(name="groupVersion")
    resources: tuple[APIResource, ...]
    api_version: str | None | UnsetType = msgspec.field(name="apiVersion", default=UNSET)
    kind: str | None | UnsetType = UNSET
