"""Apply configurations: partial objects for server-side apply, as client-go's applyconfigurations.

A model (:class:`kgen.meta.Model`) is a full object: its required fields have no default, so
``Deployment(spec=DeploymentSpec(replicas=3))`` cannot be built without a selector and a
template. An apply configuration is the same shape with every field optional: each field
defaults to ``UNSET`` and an unset field is never encoded, so the JSON holds exactly the fields
that were set, which is what server-side apply reads as "the fields this manager wants to own".
``apiVersion`` and ``kind`` of a kind's configuration default to its constants (they are always
sent, as client-go's constructors set them).

Conventions of every subclass (the generator emits the same shape):

* attributes are snake_case, the wire name kept with ``msgspec.field(name=...)``;
* a field is ``T | UnsetType = UNSET``; nested objects are apply configurations themselves,
  arrays tuples, maps dicts, and times, quantities and int-or-strings the strings kgen.meta uses;
* ``_lists`` (a class variable, by wire name) says how each array field merges, as the schema's
  ``x-kubernetes-list-type``/``x-kubernetes-list-map-keys`` (or the patch strategy and merge
  key) say: ``"set"``, or the key fields of a keyed list with the defaults of those keys.
  Arrays not listed are atomic. ``_atomic`` marks an object type owned as one value
  (``x-kubernetes-map-type: atomic``). :func:`kgen.meta.extract` reads both.

Here are the ``meta/v1`` configurations every generated package shares (ObjectMeta,
OwnerReference, LabelSelector and its requirement, Condition). Instances are plain values:
not thread-safe to mutate, safe to share read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, TypeAlias

import msgspec

from kgen.meta._model import UNSET, Time, UnsetType

__all__ = [
    "ApplyConfiguration",
    "ConditionApplyConfiguration",
    "KeyedList",
    "LabelSelectorApplyConfiguration",
    "LabelSelectorRequirementApplyConfiguration",
    "ListType",
    "ObjectMetaApplyConfiguration",
    "OwnerReferenceApplyConfiguration",
]

KeyedList: TypeAlias = tuple[tuple[str, ...], Mapping[str, object]]
"""A keyed list's key fields (sorted) and the schema defaults of those of them that have one."""
ListType: TypeAlias = str | KeyedList
"""How an array field merges: ``"set"`` or a :data:`KeyedList` (atomic arrays are not listed)."""


class ApplyConfiguration(msgspec.Struct, kw_only=True, gc=False, repr_omit_defaults=True):
    """Base of every apply configuration; see the module docstring for the conventions.

    ``kw_only`` applies only to the fields a class declares itself, so every subclass repeats
    ``kw_only=True``.
    """

    _lists: ClassVar[Mapping[str, ListType]] = {}
    _atomic: ClassVar[bool] = False


class OwnerReferenceApplyConfiguration(ApplyConfiguration, kw_only=True):
    """An owner of an object; owned as one value (``x-kubernetes-map-type: atomic``)."""

    _atomic: ClassVar[bool] = True

    api_version: str | UnsetType = msgspec.field(name="apiVersion", default=UNSET)
    kind: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    uid: str | UnsetType = UNSET
    controller: bool | UnsetType = UNSET
    block_owner_deletion: bool | UnsetType = msgspec.field(name="blockOwnerDeletion", default=UNSET)


class ObjectMetaApplyConfiguration(ApplyConfiguration, kw_only=True):
    """The metadata an applier may own (as client-go's: no ``managedFields``)."""

    _lists: ClassVar[Mapping[str, ListType]] = {
        "finalizers": "set",
        "ownerReferences": (("uid",), {}),
    }

    name: str | UnsetType = UNSET
    generate_name: str | UnsetType = msgspec.field(name="generateName", default=UNSET)
    namespace: str | UnsetType = UNSET
    uid: str | UnsetType = UNSET
    resource_version: str | UnsetType = msgspec.field(name="resourceVersion", default=UNSET)
    generation: int | UnsetType = UNSET
    creation_timestamp: Time | UnsetType = msgspec.field(name="creationTimestamp", default=UNSET)
    deletion_timestamp: Time | UnsetType = msgspec.field(name="deletionTimestamp", default=UNSET)
    deletion_grace_period_seconds: int | UnsetType = msgspec.field(
        name="deletionGracePeriodSeconds", default=UNSET
    )
    labels: dict[str, str] | UnsetType = UNSET
    annotations: dict[str, str] | UnsetType = UNSET
    owner_references: tuple[OwnerReferenceApplyConfiguration, ...] | UnsetType = msgspec.field(
        name="ownerReferences", default=UNSET
    )
    finalizers: tuple[str, ...] | UnsetType = UNSET


class LabelSelectorRequirementApplyConfiguration(ApplyConfiguration, kw_only=True):
    """One requirement of a label selector: ``key``, ``operator`` and ``values``."""

    key: str | UnsetType = UNSET
    operator: str | UnsetType = UNSET
    values: tuple[str, ...] | UnsetType = UNSET


class LabelSelectorApplyConfiguration(ApplyConfiguration, kw_only=True):
    """A label selector; owned as one value (``x-kubernetes-map-type: atomic``)."""

    _atomic: ClassVar[bool] = True

    match_labels: dict[str, str] | UnsetType = msgspec.field(name="matchLabels", default=UNSET)
    match_expressions: tuple[LabelSelectorRequirementApplyConfiguration, ...] | UnsetType = (
        msgspec.field(name="matchExpressions", default=UNSET)
    )


class ConditionApplyConfiguration(ApplyConfiguration, kw_only=True):
    """One ``metav1.Condition`` of a status."""

    type: str | UnsetType = UNSET
    status: str | UnsetType = UNSET
    observed_generation: int | UnsetType = msgspec.field(name="observedGeneration", default=UNSET)
    last_transition_time: Time | UnsetType = msgspec.field(name="lastTransitionTime", default=UNSET)
    reason: str | UnsetType = UNSET
    message: str | UnsetType = UNSET
