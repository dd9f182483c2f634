"""kube-apiserver's object semantics over the store, for the HTTP server and for fakes alike.

:class:`ObjectTracker` is the single implementation of what a verb does to objects: metadata
defaulting (uid, creationTimestamp, generation, generateName), optimistic concurrency,
status/spec split, finalizers, dry run, the three patch formats and server-side apply, list
selection and paging, and watch. :class:`kgen.testing.APIServer` puts HTTP in front of it;
fake clientsets call it directly, so both behave the same.

Objects go in and come out as JSON dicts. The tracker copies what it is given and what it hands
out, so callers own their dicts. Every method is thread-safe; only the iterators returned by
:meth:`ObjectTracker.watch` block (in ``next``), and they must be closed (``close()`` or
exhausting them) to release their watcher.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kgen import fields as fieldsel
from kgen import labels as labelsel
from kgen.spec import SpecError
from kgen.spec.model import APIModel
from kgen.testing import _admission as admission
from kgen.testing import _deletion as deletion
from kgen.testing._apply import FieldManager, check_write_options
from kgen.testing._conversion import Converter, ReviewHandler
from kgen.testing._crds import CRDExtras, extras_of
from kgen.testing._csr import APPROVAL, CSR_KEY, csr_create, csr_subresource_update
from kgen.testing._defaults import apply_builtin_defaults, initial_pod_status
from kgen.testing._errors import APIError
from kgen.testing._install import CRD_RESOURCE, crd_model, crd_status, same_conditions
from kgen.testing._options import (
    PATCH_APPLY,
    PATCH_JSON,
    PATCH_MERGE,
    PATCH_STRATEGIC,
    ListOptions,
    WriteOptions,
    Written,
    invalid_option,
)
from kgen.testing._paging import EXPIRED, decode_continue, encode_continue
from kgen.testing._patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from kgen.testing._registry import Registry, ResourceInfo
from kgen.testing._scale import scale_of, set_replicas
from kgen.testing._schema import Checker, SchemaView
from kgen.testing._services import SERVICES, allocate_on_create, allocate_on_update
from kgen.testing._store import JSON, Store, copy_json
from kgen.testing._validation import check_identity, check_metadata, field_values
from kgen.testing._watch import WatchStart, WatchStream, stream_events

__all__ = ["ObjectTracker"]

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
_NO_GENERATION = frozenset(
    {
        ("", "namespaces"),
        ("", "services"),
        ("", "nodes"),
        ("", "persistentvolumes"),
        ("", "persistentvolumeclaims"),
    }
)
"""Built-in resources with a status subresource whose objects carry no ``generation``."""
_DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_NAMESPACES = ("", "namespaces")
_PODS = ("", "pods")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


_CUSTOM_PATCH_TYPES = (PATCH_JSON, PATCH_MERGE, PATCH_APPLY)


class ObjectTracker:
    """Objects of the resources of ``model``, with kube-apiserver's semantics.

    ``window`` is the number of events kept for watch and paging (older revisions get 410);
    ``seed``: ``None`` (the default) gives random uids (uuid4) and generated-name suffixes, so
    two trackers never hand out the same uid; an int makes both reproducible (two trackers
    given the same seed hand out the same sequence). ``clock`` gives timestamps;
    ``bookmark_interval`` spaces a watch's periodic bookmarks; ``crds`` carries what CRD
    manifests add (printer columns, scale paths, selectable fields). When the model serves
    core/v1 namespaces, the four standard namespaces exist from the start and namespaced objects
    can only be created in existing namespaces.

    ``controllers``: ``False`` (the default) is the bare store: a deleted namespace is emptied and
    removed, and an owner's dependents collected, within the DELETE itself. ``True`` leaves that
    to the controllers of :mod:`kgen.testing.controllers` (which must then run over this tracker,
    as ``APIServer(controllers=True)`` runs them): a deleted namespace stays ``Terminating``,
    held by the ``kubernetes`` finalizer of its ``spec``, and refuses new content (403);
    Foreground and Orphan deletes hold the owner with the ``foregroundDeletion`` / ``orphan``
    finalizer; the immortal namespaces (default, kube-system, kube-public) may not be deleted.
    """

    def __init__(
        self,
        model: APIModel,
        *,
        window: int = 1000,
        seed: int | None = None,
        clock: Callable[[], str] = _now,
        bookmark_interval: float = 60.0,
        crds: Mapping[tuple[str, str, str], CRDExtras] | None = None,
        controllers: bool = False,
    ) -> None:
        self.controllers = controllers
        self.registry = Registry(model, crds)
        self.schemas = SchemaView(self.registry.model.schemas)
        self.checker = Checker(self.schemas)
        self.store = Store(window=window)
        self.fields = FieldManager(self.schemas)
        self._installed: dict[str, tuple[str, str]] = {}
        """CRD object name to the (group, plural) it made served."""
        self.bookmark_interval = bookmark_interval
        self._rng = random.Random(seed)
        self._seeded = seed is not None
        self._clock = clock
        self._schema_pairs: dict[tuple[int, int], tuple[ResourceInfo, ResourceInfo, bool]] = {}
        """Schema pairs compared by :meth:`_same_schema` (set-once entries, GIL-atomic)."""
        self.registry.conversions.coerce = self._coerce
        self._namespaces = self.registry.get("", "v1", "namespaces")
        if self._namespaces is not None:
            for name in _DEFAULT_NAMESPACES:
                self.create(self._namespaces, "", {"metadata": {"name": name}})

    def now(self) -> str:
        """The time the tracker stamps objects with (its clock), for controllers' conditions."""
        return self._clock()

    def on_convert(self, crd: str, convert: Converter | None) -> None:
        """Convert the objects of the ``Webhook``-strategy CRD ``crd`` (its name,
        ``plural.group``, or ``Kind.group``) with ``convert(obj, desired_api_version) ->
        converted``, the stand-in for its conversion webhook (``None`` removes it). ``obj`` is
        the hook's own copy; the answer is checked as kube-apiserver checks a webhook's (see
        :mod:`kgen.testing._conversion`). The hook runs on request threads, on writes under the
        store lock: it must not call the tracker. The CRD need not be installed yet."""
        self.registry.conversions.register(crd, convert=convert)

    def on_conversion_review(self, crd: str, handle: ReviewHandler | None) -> None:
        """Like :meth:`on_convert`, with a handler of whole ``ConversionReview`` dicts (the
        body a real conversion webhook gets, and the body it answers), so a webhook's own
        logic can serve the conversions."""
        self.registry.conversions.register(crd, review=handle)

    # --- lookup -------------------------------------------------------------------------------

    def resource(self, group: str, version: str, plural: str) -> ResourceInfo:
        """The served resource, or 404 NotFound."""
        info = self.registry.get(group, version, plural)
        if info is None:
            raise APIError.path_not_found()
        return info

    def resource_for_kind(self, api_version: str, kind: str) -> ResourceInfo:
        """The resource serving ``kind`` in ``api_version`` (404 when there is none)."""
        group, _, version = api_version.rpartition("/")
        for info in self.registry.resources():
            if (info.group, info.version, info.kind) == (group, version, kind):
                return info
        raise APIError(404, "NotFound", f"no resource serves kind {kind!r} in {api_version!r}")

    def _new_uid(self) -> str:
        if not self._seeded:
            return str(uuid.uuid4())
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _key(self, info: ResourceInfo, namespace: str, name: str) -> tuple[str, str]:
        return (namespace if info.namespaced else "", name)

    def _current(self, info: ResourceInfo, namespace: str, name: str) -> JSON:
        found = self.store.get(info.key, self._key(info, namespace, name))
        if found is None:
            raise APIError.not_found(info.plural, info.group, name)
        return found

    # --- reads --------------------------------------------------------------------------------

    def get(self, info: ResourceInfo, namespace: str, name: str, *, copy: bool = True) -> JSON:
        """A copy of the object, or 404. With ``copy=False`` the stored object itself as
        this version shows it (shared, read-only: see :meth:`list`)."""
        found = self._current(info, namespace, name)
        return info.present(found) if copy else info.view(found)

    def _selectors(
        self, info: ResourceInfo, options: ListOptions
    ) -> tuple[labelsel.Selector, fieldsel.Selector]:
        try:
            label_selector = labelsel.parse(options.label_selector)
        except labelsel.SelectorError as err:
            raise APIError.bad_request(str(err)) from None
        try:
            field_selector = fieldsel.parse(options.field_selector)
        except fieldsel.SelectorError as err:
            raise APIError.bad_request(str(err)) from None
        for path in field_selector.fields():
            if not info.supports_field(path):
                raise APIError.bad_request(f"field label not supported: {path}")
        return label_selector, field_selector

    def matcher(self, info: ResourceInfo, options: ListOptions) -> Callable[[JSON], bool]:
        """A predicate for the objects the options' selectors select (400 on a bad selector)."""
        label_selector, field_selector = self._selectors(info, options)

        if label_selector.empty() and field_selector.empty():
            return _everything

        def matches(obj: JSON) -> bool:
            labels = (obj.get("metadata") or {}).get("labels")
            return label_selector.matches(labels) and (
                field_selector.empty() or field_selector.matches(field_values(info, obj))
            )

        return matches

    def list(
        self,
        info: ResourceInfo,
        namespace: str,
        options: ListOptions | None = None,
        *,
        copy: bool = True,
    ) -> JSON:
        """The ``<Kind>List`` of the objects selected by ``options``, one page of it if limited.

        With ``copy=False`` the items are the stored objects themselves (shared, read-only: for
        callers that only serialize them).

        Pages are a consistent snapshot at the first page's revision; a continue token older
        than the history window gets 410 Expired.
        """
        options = options or ListOptions()
        matches = self.matcher(info, options)
        namespace = namespace if info.namespaced else ""
        start_after = ""
        if options.continue_:
            revision, start_after = decode_continue(options.continue_)
            try:
                items = self.store.snapshot(info.key, revision, namespace)
            except APIError:
                raise APIError.gone(EXPIRED) from None
        else:
            revision, items = self._read_at(info, namespace, options)
        if start_after:
            items = [o for o in items if _object_key(o) > start_after]
        selected = [o for o in items if matches(o)]
        metadata: JSON = {"resourceVersion": str(revision)}
        paged = options.limit > 0 and (options.resource_version != "0" or options.continue_)
        if paged and len(selected) > options.limit:
            page = selected[: options.limit]
            metadata["continue"] = encode_continue(revision, _object_key(page[-1]))
            if not options.label_selector and not options.field_selector:
                metadata["remainingItemCount"] = len(selected) - options.limit
            selected = page
        return {
            "kind": info.list_kind,
            "apiVersion": info.api_version,
            "metadata": metadata,
            "items": info.view_all(selected, copy),
        }

    def _read_at(
        self, info: ResourceInfo, namespace: str, options: ListOptions
    ) -> tuple[int, builtins.list[JSON]]:
        rv, match = options.resource_version, options.resource_version_match
        if match and match not in ("Exact", "NotOlderThan"):
            raise invalid_option(
                "resourceVersionMatch",
                "FieldValueNotSupported",
                f'Unsupported value: "{match}": supported values: "Exact", "NotOlderThan"',
            )
        if match and not rv:
            raise invalid_option(
                "resourceVersionMatch",
                "FieldValueForbidden",
                "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
            )
        if not rv or rv == "0":
            return self.store.items(info.key, namespace)
        wanted = self._parse_rv(rv)
        if match == "Exact":
            return wanted, self.store.snapshot(info.key, wanted, namespace)
        self._check_not_too_large(wanted)
        return self.store.items(info.key, namespace)

    def _check_not_too_large(self, wanted: int) -> None:
        if wanted > self.store.revision:
            raise APIError(
                504,
                "Timeout",
                f"Timeout: Too large resource version: {wanted}, current: {self.store.revision}",
                {
                    "causes": [
                        {
                            "reason": "ResourceVersionTooLarge",
                            "message": "Too large resource version",
                        }
                    ],
                    "retryAfterSeconds": 1,
                },
            )

    @staticmethod
    def _parse_rv(rv: str) -> int:
        try:
            value = int(rv)
        except ValueError:
            raise APIError.bad_request(f'invalid resource version "{rv}"') from None
        if value < 0:
            raise APIError.bad_request(f'invalid resource version "{rv}"')
        return value

    # --- watch --------------------------------------------------------------------------------

    def watch(
        self,
        info: ResourceInfo,
        namespace: str,
        options: ListOptions | None = None,
        *,
        should_stop: Callable[[], bool] = lambda: False,
        copy: bool = True,
    ) -> WatchStream:
        """Watch events (``{"type": ..., "object": ...}``) for the selected objects.

        With ``copy=False`` event objects are shared and read-only (see :meth:`list`).

        Validates everything before returning (errors raise here, not on iteration). The
        iterator ends at ``timeout_seconds`` or when ``should_stop()`` turns true (checked at
        least every 0.2 s); close it to release the watcher early.
        """
        options = options or ListOptions()
        matches = self.matcher(info, options)
        namespace = namespace if info.namespaced else ""
        rv = options.resource_version
        initial = options.send_initial_events
        if initial is not None:
            if options.resource_version_match != "NotOlderThan":
                raise invalid_option(
                    "sendInitialEvents",
                    "FieldValueForbidden",
                    "Forbidden: sendInitialEvents is forbidden for watch unless "
                    "resourceVersionMatch is set to NotOlderThan",
                )
            if not options.allow_watch_bookmarks:
                raise invalid_option(
                    "allowWatchBookmarks",
                    "FieldValueForbidden",
                    "Forbidden: allowWatchBookmarks must be set to true when sendInitialEvents "
                    "is set",
                )
        elif options.resource_version_match:
            raise invalid_option(
                "resourceVersionMatch",
                "FieldValueForbidden",
                "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents "
                "is provided",
            )
        replay = initial if initial is not None else rv in ("", "0")
        since: int | None = None
        if rv not in ("", "0"):
            since = self._parse_rv(rv)
            self._check_not_too_large(since)
            if replay:
                since = None
        elif not replay:
            since = self.store.revision
        watcher, backlog, current, revision = self.store.watch(info.key, namespace, since)
        start = WatchStart(
            watcher, backlog, current, revision if since is None else since, bool(initial)
        )
        events = stream_events(
            self.store,
            info,
            start,
            matches,
            options,
            should_stop,
            self.bookmark_interval,
            info.present if copy else info.view,
        )
        return WatchStream(watcher, events)

    # --- writes -------------------------------------------------------------------------------

    def _coerce(self, source: str, version: str, plural: str, obj: JSON) -> JSON:
        """A converted custom resource pruned and defaulted by the schema of ``version`` (see
        ``ConversionHooks.coerce``): ``obj`` itself when converted from a version of the same
        schema (nothing to prune or default), else changed in a copy when ``source`` is set
        (``obj`` shares nested values with the stored object), in place when not."""
        group = str(obj.get("apiVersion", "")).rpartition("/")[0]
        info = self.registry.get(group, version, plural)
        schema = self.schemas.named(info.schema) if info is not None else None
        if schema is None:
            return obj
        if source:
            origin = self.registry.get(group, source, plural)
            if origin is not None and info is not None and self._same_schema(origin, info):
                return obj
            obj = copy_json(obj)
        self.schemas.prune(obj, schema, "")
        self.checker.default(obj, schema)
        return obj

    def _same_schema(self, origin: ResourceInfo, target: ResourceInfo) -> bool:
        """Whether two versions of a resource have the same schema, compared once per pair
        of registry entries (a CRD's update makes new entries, so a new comparison)."""
        key = (id(origin), id(target))
        found = self._schema_pairs.get(key)
        if found is None:  # the entry holds both infos, so their ids are not reused
            source, wanted = self.schemas.named(origin.schema), self.schemas.named(target.schema)
            same = source is not None and self._expanded(source) == self._expanded(wanted)
            found = (origin, target, same)
            self._schema_pairs[key] = found
        return found[2]

    def _expanded(self, schema: Any, depth: int = 0) -> Any:
        """``schema`` with every ``$ref`` replaced by what it names, descriptions and GVKs left out
        (versions of one CRD name their definitions apart); deeper than 40 levels (a
        recursive schema) gives a value equal to nothing else."""
        if depth > 40:
            return object()
        if isinstance(schema, list):
            return [self._expanded(v, depth + 1) for v in schema]
        if not isinstance(schema, dict):
            return schema
        resolved = self.schemas.resolve(schema) if "$ref" in schema else schema
        return {
            k: self._expanded(v, depth + 1)
            for k, v in resolved.items()
            if k not in ("description", "$ref", "x-kubernetes-group-version-kind")
        }

    def _check_namespace(self, info: ResourceInfo, namespace: str, obj: JSON) -> str:
        metadata = obj["metadata"]
        if not info.namespaced:
            metadata.pop("namespace", None)
            return ""
        body_ns = metadata.get("namespace") or ""
        if body_ns and namespace and body_ns != namespace:
            raise APIError.bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        namespace = namespace or body_ns
        if not namespace:
            raise APIError.bad_request("a namespace must be given for a namespaced resource")
        metadata["namespace"] = namespace
        if (
            self._namespaces is not None
            and self.store.get(self._namespaces.key, ("", namespace)) is None
        ):
            raise APIError.not_found("namespaces", "", namespace)
        return namespace

    def _prune(self, info: ResourceInfo, obj: JSON, options: WriteOptions) -> builtins.list[str]:
        schema = self.schemas.named(info.schema)
        if schema is None:
            return []
        unknown = self.schemas.prune(obj, schema, "")
        if not unknown or options.field_validation == "Ignore":
            return []
        if options.field_validation == "Strict":
            detail = ", ".join(f'unknown field "{p[1:]}"' for p in unknown)
            raise APIError.bad_request(f"strict decoding error: {detail}")
        return [f'unknown field "{p[1:]}"' for p in unknown]

    def _default(self, info: ResourceInfo, obj: JSON) -> None:
        """Fill the defaults of the built-in kinds and of the schema, in place."""
        apply_builtin_defaults(info.key, obj)
        schema = self.schemas.named(info.schema)
        if schema is not None:
            self.checker.default(obj, schema)

    def _admit(self, info: ResourceInfo, obj: JSON) -> None:
        """Default, then validate, the object about to be stored (422 Invalid on problems)."""
        self._default(info, obj)
        schema = self.schemas.named(info.schema)
        if schema is None:
            return
        problems = self.checker.check(obj, schema, "")
        if problems:
            raise APIError.invalid(info.kind, info.group, obj["metadata"].get("name", ""), problems)

    def _manager(self, options: WriteOptions) -> str:
        return options.field_manager or "kgen.testing"

    def create(
        self,
        info: ResourceInfo,
        namespace: str,
        body: Any,
        options: WriteOptions | None = None,
    ) -> JSON:
        """Create ``body``; returns the stored object (409 AlreadyExists, 422 Invalid, ...)."""
        return self.create_ex(info, namespace, body, options).object

    def create_ex(
        self, info: ResourceInfo, namespace: str, body: Any, options: WriteOptions | None = None
    ) -> Written:
        """:meth:`create` returning code and warnings too (what the HTTP layer sends)."""
        options = options or WriteOptions()
        obj = check_identity(info, copy_json(body) if isinstance(body, dict) else body)
        warnings = self._prune(info, obj, options)
        namespace = self._check_namespace(info, namespace, obj)
        metadata = obj["metadata"]
        if self.controllers and info.namespaced and self._namespaces is not None:
            live = self.store.get(self._namespaces.key, ("", namespace))
            if live is not None:
                admission.check_create(info, str(metadata.get("name") or ""), live)
        if not metadata.get("name") and metadata.get("generateName"):
            suffix = "".join(self._rng.choice(_NAME_CHARS) for _ in range(5))
            metadata["name"] = str(metadata["generateName"]) + suffix
        check_metadata(info, obj)
        for key in (
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
        ):
            metadata.pop(key, None)
        metadata["uid"] = self._new_uid()
        metadata["creationTimestamp"] = self._clock()
        if "status" in info.subresources:
            if info.key not in _NO_GENERATION:
                metadata["generation"] = 1
            obj.pop("status", None)
            if info.key == ("", "pods"):
                obj["status"] = initial_pod_status(obj)
        if info.key == _NAMESPACES:  # a namespace always starts held by "kubernetes"
            spec = obj.setdefault("spec", {})
            finalizers = list(spec.get("finalizers") or [])
            spec["finalizers"] = finalizers + ["kubernetes"] * ("kubernetes" not in finalizers)
            obj["status"] = {"phase": "Active"}
        if info.key == CSR_KEY:
            csr_create(obj, options.user)
        self._default(info, obj)  # decoded writes carry their defaults, owned by the writer
        self.fields.record_update(
            None,
            obj,
            self._manager(options),
            info.api_version,
            None,
            self._clock(),
            self.schemas.named(info.schema),
            sent=metadata.get("managedFields"),
            status_split="status" in info.subresources,
            builtin=not info.custom,
        )
        return self._store_new(info, namespace, obj, options, warnings)

    def _store_new(
        self,
        info: ResourceInfo,
        namespace: str,
        obj: JSON,
        options: WriteOptions,
        warnings: builtins.list[str],
    ) -> Written:
        key = self._key(info, namespace, obj["metadata"]["name"])
        self._admit(info, obj)
        stored = obj if options.dry_run else info.to_storage(obj)  # a CRD's storage version
        with self.store.lock:
            if self.store.get(info.key, key) is not None:
                raise APIError.already_exists(info.plural, info.group, key[1])
            if info.key == SERVICES:
                allocate_on_create(obj, self.store.items(SERVICES)[1], self._rng)
            if options.dry_run:
                return Written(obj, 201, warnings)
            event = self.store.commit(info.key, key, "ADDED", lambda rv: _with_rv(stored, rv))
            answer = self._settled(info, key, event.object)
        return Written(answer, 201, warnings)

    def update(
        self,
        info: ResourceInfo,
        namespace: str,
        body: Any,
        options: WriteOptions | None = None,
        *,
        subresource: str = "",
        name: str = "",
    ) -> JSON:
        """Replace an object (or its ``status``); 409 Conflict on a stale resourceVersion."""
        return self.update_ex(
            info, namespace, body, options, subresource=subresource, name=name
        ).object

    def update_ex(
        self,
        info: ResourceInfo,
        namespace: str,
        body: Any,
        options: WriteOptions | None = None,
        *,
        subresource: str = "",
        name: str = "",
    ) -> Written:
        """:meth:`update` returning code and warnings too."""
        options = options or WriteOptions()
        obj = check_identity(info, copy_json(body) if isinstance(body, dict) else body)
        warnings = self._prune(info, obj, options)
        namespace = self._check_namespace(info, namespace, obj)
        body_name = obj["metadata"].get("name") or ""
        if name and body_name != name:
            raise APIError.bad_request(
                f"the name of the object ({body_name}) does not match the name on the URL ({name})"
            )
        check_metadata(info, obj)
        with self.store.lock:
            old = info.served(self._current(info, namespace, body_name))  # in this version
            rv = obj["metadata"].get("resourceVersion")
            if rv and rv != old["metadata"]["resourceVersion"]:
                raise APIError.conflict(
                    info.plural,
                    info.group,
                    body_name,
                    "the object has been modified; please apply your changes to the latest "
                    "version and try again",
                )
            sent = obj["metadata"].get("managedFields")
            new = self._merge_update(info, old, obj, subresource)
            self._default(info, new)
            self.fields.record_update(
                old,
                new,
                self._manager(options),
                info.api_version,
                subresource or None,
                self._clock(),
                self.schemas.named(info.schema),
                sent=sent,
                status_split="status" in info.subresources,
                builtin=not info.custom,
            )
            return self._store_update(info, namespace, old, new, options, warnings)

    def _merge_update(self, info: ResourceInfo, old: JSON, obj: JSON, subresource: str) -> JSON:
        """Apply the status split and keep the fields clients may not change."""
        if info.key == CSR_KEY and subresource in ("status", "approval"):
            return csr_subresource_update(old, obj, subresource, self._clock())
        if info.key == CSR_KEY and not subresource and "spec" in old:
            obj["spec"] = old["spec"]  # a request never changes once made
        if info.key == _NAMESPACES and subresource == "finalize":
            new = copy_json(old)  # namespaces/finalize writes spec.finalizers and nothing else
            finalizers = (obj.get("spec") or {}).get("finalizers") or []
            new.setdefault("spec", {})["finalizers"] = finalizers
            return new
        if subresource == "status":
            new = copy_json(old)
            if "status" in obj:
                new["status"] = obj["status"]
            else:
                new.pop("status", None)
            return new
        if subresource and subresource != "scale":  # scale writes arrive as whole objects
            raise APIError.method_not_allowed("update", f"{info.plural}/{subresource}")
        new = obj
        if info.key == _NAMESPACES:  # only namespaces/finalize changes spec.finalizers
            old_finalizers = (old.get("spec") or {}).get("finalizers")
            spec = new.setdefault("spec", {})
            if old_finalizers is None:
                spec.pop("finalizers", None)
            else:
                spec["finalizers"] = old_finalizers
        if "status" in info.subresources:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
        metadata, old_meta = new["metadata"], old["metadata"]
        for key in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "managedFields",
        ):
            if key in old_meta:
                metadata[key] = old_meta[key]
            else:
                metadata.pop(key, None)
        return new

    def _store_update(
        self,
        info: ResourceInfo,
        namespace: str,
        old: JSON,
        new: JSON,
        options: WriteOptions,
        warnings: builtins.list[str],
    ) -> Written:
        key = self._key(info, namespace, new["metadata"]["name"])
        self._admit(info, new)
        if info.key == SERVICES:
            others = [
                s
                for s in self.store.items(SERVICES)[1]
                if s["metadata"].get("uid") != old["metadata"].get("uid")
            ]
            allocate_on_update(old, new, others, self._rng)
        generation = old["metadata"].get("generation")
        if generation is not None and _spec_of(new) != _spec_of(old):
            new["metadata"]["generation"] = int(generation) + 1
        new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        if new == old:
            return Written(info.present(old), 200, warnings)
        deleting = bool(new["metadata"].get("deletionTimestamp"))
        if deleting and not new["metadata"].get("finalizers") and not _spec_finalizers(info, new):
            if options.dry_run:
                return Written(info.present(new), 200, warnings)
            gone = info.to_storage(new)
            event = self.store.commit(info.key, key, "DELETED", lambda rv: _with_rv(gone, rv))
            if not self.controllers:
                self._collect_garbage(new, "Background")
            self._after_write(info, key[1])
            return Written(info.present(event.object), 200, warnings)
        if options.dry_run:
            return Written(info.present(new), 200, warnings)
        stored = info.to_storage(new)  # a CRD's storage version
        event = self.store.commit(info.key, key, "MODIFIED", lambda rv: _with_rv(stored, rv))
        return Written(self._settled(info, key, event.object), 200, warnings)

    def patch(
        self,
        info: ResourceInfo,
        namespace: str,
        name: str,
        patch_type: str,
        patch: Any,
        options: WriteOptions | None = None,
        *,
        subresource: str = "",
    ) -> JSON:
        """Patch an object (or its ``status``) with one of the four patch types."""
        return self.patch_ex(
            info, namespace, name, patch_type, patch, options, subresource=subresource
        ).object

    def patch_ex(
        self,
        info: ResourceInfo,
        namespace: str,
        name: str,
        patch_type: str,
        patch: Any,
        options: WriteOptions | None = None,
        *,
        subresource: str = "",
    ) -> Written:
        """:meth:`patch` returning code and warnings too."""
        options = options or WriteOptions()
        if subresource and subresource != "status" and (info.key, subresource) != APPROVAL:
            raise APIError.method_not_allowed("patch", f"{info.plural}/{subresource}")
        with self.store.lock:
            key = self._key(info, namespace, name)
            old = self.store.get(info.key, key)
            if patch_type == PATCH_APPLY:
                return self._apply(info, namespace, name, old, patch, options, subresource)
            if old is None:
                raise APIError.not_found(info.plural, info.group, name)
            current = info.present(old)
            patched = self._patched(info, current, patch_type, patch)
            if not isinstance(patched, dict):
                raise APIError(422, "Invalid", "the patch produced a value that is not an object")
            patched.setdefault("metadata", {})
            if isinstance(patched["metadata"], dict):
                patched["metadata"].setdefault("name", name)
            return self.update_ex(
                info, namespace, patched, options, subresource=subresource, name=name
            )

    def _patched(self, info: ResourceInfo, current: JSON, patch_type: str, patch: Any) -> Any:
        try:
            if patch_type == PATCH_JSON:
                return json_patch(current, patch)
            if not isinstance(patch, dict):
                raise APIError.bad_request(f"a {patch_type} body must be a JSON object")
            if patch_type == PATCH_MERGE:
                return merge_patch(current, patch)
            if patch_type == PATCH_STRATEGIC and not info.custom:
                return strategic_merge_patch(
                    current, patch, self.schemas.named(info.schema), self.schemas
                )
        except PatchError as err:
            raise APIError(422, "Invalid", f"the patch could not be applied: {err}") from None
        if info.custom:  # custom resources have no patch strategies to merge by
            raise APIError.unsupported_media_type(patch_type, _CUSTOM_PATCH_TYPES)
        raise APIError.unsupported_media_type(patch_type)

    def _apply(
        self,
        info: ResourceInfo,
        namespace: str,
        name: str,
        old: JSON | None,
        applied: Any,
        options: WriteOptions,
        subresource: str,
    ) -> Written:
        check_write_options("PatchOptions", options.field_manager or "", True, False)
        applied = check_identity(info, copy_json(applied) if isinstance(applied, dict) else applied)
        if applied.get("apiVersion") is None or applied.get("kind") is None:
            raise APIError.bad_request("apiVersion and kind must be set in an apply configuration")
        if (applied["metadata"].get("name") or name) != name:
            raise APIError.bad_request(
                f"the name of the object ({applied['metadata'].get('name')}) does not match the name on the URL ({name})"
            )
        applied["metadata"]["name"] = name
        warnings = self._prune(info, applied, options)
        schema = self.schemas.named(info.schema)
        if old is None:
            if subresource:
                raise APIError.not_found(info.plural, info.group, name)
            created = self.create_ex(
                info,
                namespace,
                applied,
                WriteOptions(
                    dry_run=True, field_manager=options.field_manager, field_validation="Ignore"
                ),
            )
            obj = created.object
            obj["metadata"].pop("managedFields", None)
            status = obj.get("status")
            obj = self.fields.apply(
                obj,
                applied,
                options.field_manager,
                info.api_version,
                None,
                True,
                schema,
                self._clock(),
                creating=True,
                status_split="status" in info.subresources,
                builtin=not info.custom,
            )
            if "status" in info.subresources:  # a create sets no status, applied or not
                obj.pop("status", None)
                if status is not None:
                    obj["status"] = status
            return Written(
                self._store_new(info, namespace, obj, options, warnings).object, 201, warnings
            )
        old = info.served(old)  # the live object in this version
        wanted_rv = applied["metadata"].get("resourceVersion")
        if wanted_rv and wanted_rv != old["metadata"]["resourceVersion"]:  # optimistic lock
            raise APIError.conflict(
                info.plural,
                info.group,
                name,
                "the object has been modified; please apply your changes to the latest "
                "version and try again",
            )
        live = info.present(old)
        merged = self.fields.apply(
            live,
            applied,
            options.field_manager,
            info.api_version,
            subresource or None,
            options.force,
            schema,
            self._clock(),
            status_split="status" in info.subresources,
            builtin=not info.custom,
        )
        managed = merged["metadata"].get("managedFields")
        new = self._merge_update(info, old, merged, subresource)
        if managed:
            new["metadata"]["managedFields"] = managed
        else:
            new["metadata"].pop("managedFields", None)
        return self._store_update(info, namespace, old, new, options, warnings)

    # --- scale subresource ---------------------------------------------------------------------

    def get_scale(self, info: ResourceInfo, namespace: str, name: str) -> JSON:
        """The ``autoscaling/v1`` ``Scale`` of a workload."""
        return scale_of(self.get(info, namespace, name), info.scale_paths)

    def update_scale(
        self,
        info: ResourceInfo,
        namespace: str,
        name: str,
        scale: Any,
        options: WriteOptions | None = None,
    ) -> JSON:
        """Set ``spec.replicas`` from a ``Scale`` body (its resourceVersion, if any, must be
        current); returns the new ``Scale``."""
        with self.store.lock:
            new = set_replicas(self.get(info, namespace, name), scale, info.scale_paths)
            written = self.update_ex(info, namespace, new, options, subresource="scale", name=name)
        return scale_of(written.object, info.scale_paths)

    def patch_scale(
        self,
        info: ResourceInfo,
        namespace: str,
        name: str,
        patch_type: str,
        patch: Any,
        options: WriteOptions | None = None,
    ) -> JSON:
        """Patch the ``Scale`` (JSON, merge or strategic merge patch) and apply it."""
        if patch_type not in (PATCH_JSON, PATCH_MERGE, PATCH_STRATEGIC):
            raise APIError.unsupported_media_type(patch_type)
        with self.store.lock:
            current = self.get(info, namespace, name)
            patched = self._patched(info, scale_of(current, info.scale_paths), patch_type, patch)
            written = self.update_ex(
                info,
                namespace,
                set_replicas(current, patched, info.scale_paths),
                options,
                subresource="scale",
                name=name,
            )
        return scale_of(written.object, info.scale_paths)

    # --- pod subresources ----------------------------------------------------------------------

    def evict(
        self, info: ResourceInfo, namespace: str, name: str, eviction: Any, options: WriteOptions
    ) -> JSON:
        """``pods/<name>/eviction``: delete the pod (with the Eviction's deleteOptions); there are
        no PodDisruptionBudgets to refuse it. Returns a success ``Status``."""
        delete_options = eviction.get("deleteOptions") if isinstance(eviction, dict) else None
        options.body_options = dict(delete_options) if isinstance(delete_options, dict) else {}
        self.delete_ex(info, namespace, name, options)
        return _success(201)

    def bind(
        self, info: ResourceInfo, namespace: str, name: str, binding: Any, options: WriteOptions
    ) -> JSON:
        """``pods/<name>/binding``: set ``spec.nodeName`` from the Binding's target, once
        (409 when the pod is already assigned). Returns a success ``Status``."""
        target = binding.get("target") if isinstance(binding, dict) else None
        node = target.get("name") if isinstance(target, dict) else None
        if not isinstance(node, str) or not node:
            raise APIError.bad_request("a Binding needs target.name (the node)")
        with self.store.lock:
            pod = self.get(info, namespace, name)
            assigned = (pod.get("spec") or {}).get("nodeName")
            if assigned:
                raise APIError.conflict(
                    info.plural,
                    info.group,
                    name,
                    f'pod {name} is already assigned to node "{assigned}"',
                )
            pod.setdefault("spec", {})["nodeName"] = node
            self.update_ex(info, namespace, pod, options, name=name)
        return _success(201)

    def delete(
        self, info: ResourceInfo, namespace: str, name: str, options: WriteOptions | None = None
    ) -> JSON:
        """Delete an object; returns what kube-apiserver answers for its kind (see
        ``_deletion``): the object (marked, or as last stored) or a success ``Status``. With
        finalizers the object only gets a deletionTimestamp and is returned."""
        return self.delete_ex(info, namespace, name, options).object

    def delete_ex(
        self, info: ResourceInfo, namespace: str, name: str, options: WriteOptions | None = None
    ) -> Written:
        """:meth:`delete` returning code and warnings too."""
        options = options or WriteOptions()
        body_options = options.body_options
        with self.store.lock:
            old = self._current(info, namespace, name)
            self._check_preconditions(info, old, body_options.get("preconditions"))
            if self.controllers:
                return self._delete_for_controllers(info, old, options)
            key = self._key(info, namespace, name)
            held = bool(old["metadata"].get("finalizers"))
            if held and old["metadata"].get("deletionTimestamp"):
                return Written(info.present(old), deletion.response_code(body_options, False))
            now = self._clock()
            if held:
                new = deletion.mark_held(info, old, now, body_options)
                if options.dry_run:
                    return Written(info.present(new), deletion.response_code(body_options, False))
                event = self.store.commit(info.key, key, "MODIFIED", lambda rv: _with_rv(new, rv))
                return Written(
                    info.present(event.object), deletion.response_code(body_options, False)
                )
            last = deletion.mark(info, old, now, body_options) or old
            if not options.dry_run:
                if info.key == ("", "namespaces"):
                    self._empty_namespace(name)
                policy = body_options.get("propagationPolicy")
                if body_options.get("orphanDependents") is True:
                    policy = "Orphan"
                if policy == "Foreground":
                    self._collect_garbage(old, "Foreground")
                gone = copy_json(last)
                self.store.commit(info.key, key, "DELETED", lambda rv: _with_rv(gone, rv))
                if policy != "Foreground":
                    self._collect_garbage(old, policy or "Background")
                self._after_write(info, name)
        return Written(deletion.answer(info, last), deletion.response_code(body_options, True))

    def _delete_for_controllers(
        self, info: ResourceInfo, old: JSON, options: WriteOptions
    ) -> Written:
        """:meth:`delete_ex` when controllers run (the caller holds the lock): the object is
        removed only when no finalizer holds it, after the garbage collector's finalizers for
        the asked propagation are set; a namespace is held by its ``spec.finalizers`` too, and
        marked Terminating. Nothing is collected here: the controllers do it."""
        body_options = options.body_options
        meta = old["metadata"]
        admission.check_delete(info, meta["name"])
        key = self._key(info, meta.get("namespace", ""), meta["name"])
        finalizers = list(meta.get("finalizers") or [])
        wanted = deletion.gc_finalizers(finalizers, body_options)
        now = self._clock()
        if wanted or _spec_finalizers(info, old):
            if meta.get("deletionTimestamp") and wanted == finalizers:
                return Written(info.present(old), deletion.response_code(body_options, False))
            if meta.get("deletionTimestamp"):
                new = copy_json(old)
            elif info.key == _NAMESPACES:
                new = deletion.mark(info, old, now, body_options) or copy_json(old)
            else:
                new = deletion.mark_held(info, old, now, body_options)
            if wanted:
                new["metadata"]["finalizers"] = wanted
            else:
                new["metadata"].pop("finalizers", None)
            if not options.dry_run:
                new = self.store.commit(
                    info.key, key, "MODIFIED", functools.partial(_with_rv, new)
                ).object
            return Written(info.present(new), deletion.response_code(body_options, False))
        last = deletion.mark(info, old, now, body_options) or old
        if last is not old and info.key == _PODS and last["metadata"]["deletionGracePeriodSeconds"]:
            # A bound pod stays, marked, until its kubelet has stopped it (controllers.kubelet).
            if not options.dry_run:
                last = self.store.commit(
                    info.key, key, "MODIFIED", functools.partial(_with_rv, last)
                ).object
            return Written(info.present(last), 200)
        if not options.dry_run:
            gone = copy_json(last)
            self.store.commit(info.key, key, "DELETED", functools.partial(_with_rv, gone))
            self._after_write(info, meta["name"])
        return Written(deletion.answer(info, last), deletion.response_code(body_options, True))

    def _empty_namespace(self, namespace: str) -> None:
        for info in self.registry.stored():
            if not info.namespaced:
                continue
            for obj in self.store.items(info.key, namespace)[1]:
                key = (namespace, obj["metadata"]["name"])
                self.store.commit(info.key, key, "DELETED", functools.partial(_with_rv, obj))

    def install_crds(self, manifests: Sequence[Mapping[str, Any]]) -> None:
        """Store ``manifests`` as CustomResourceDefinition objects, as installed CRDs are on a
        real cluster (``kubectl get crd`` lists them); nothing happens when the model does not
        serve ``apiextensions.k8s.io/v1``."""
        info = self.registry.get(CRD_RESOURCE[0], "v1", CRD_RESOURCE[1])
        if info is None:
            return
        for manifest in manifests:
            name = str((manifest.get("metadata") or {}).get("name", ""))
            if self.store.get(info.key, ("", name)) is None:
                with contextlib.suppress(APIError):  # e.g. an old v1beta1 manifest
                    self.create(info, "", {**manifest, "apiVersion": info.api_version})

    def _settled(self, info: ResourceInfo, key: tuple[str, str], written: JSON) -> JSON:
        """What a create or update answers: the object as stored once :meth:`_after_write` has
        run (a CRD then carries its status: accepted names, stored versions, Established)."""
        self._after_write(info, key[1])
        return info.present(self.store.get(info.key, key) or written)

    def _after_write(self, info: ResourceInfo, name: str) -> None:
        """Keep served CRD resources in step with the stored CRD objects (see ``_install``)."""
        if info.key != CRD_RESOURCE:
            return
        crd = self.store.get(info.key, ("", name))
        if crd is None:
            installed = self._installed.pop(name, None)
            if installed is not None:
                for stored in self.registry.stored():
                    if stored.key == installed:
                        for obj in self.store.items(stored.key)[1]:
                            meta = obj["metadata"]
                            key = (meta.get("namespace", ""), meta["name"])
                            self.store.commit(
                                stored.key, key, "DELETED", functools.partial(_with_rv, obj)
                            )
                self.registry.remove(*installed)
            return
        problem: SpecError | None = None
        try:
            self.registry.add(crd_model(crd), extras_of(crd))
            spec = crd.get("spec") or {}
            self._installed[name] = (
                str(spec.get("group", "")),
                str((spec.get("names") or {}).get("plural", "")),
            )
        except SpecError as err:
            problem = err
        status = crd_status(crd, self._clock(), problem)
        if not same_conditions(crd.get("status"), status):
            updated = {**copy_json(crd), "status": status}
            self.store.commit(
                info.key, ("", name), "MODIFIED", functools.partial(_with_rv, updated)
            )

    def _collect_garbage(self, owner: JSON, policy: str) -> None:
        """What the garbage collector does once ``owner`` goes: delete its dependents (objects
        whose ownerReferences name its uid), or with ``Orphan`` drop those references.

        Runs at once, under the store lock (the caller holds it), instead of eventually.
        """
        uid = owner["metadata"].get("uid")
        namespace = owner["metadata"].get("namespace", "")
        for info in self.registry.stored():
            for obj in self.store.items(info.key, namespace if info.namespaced else "")[1]:
                refs = obj["metadata"].get("ownerReferences") or []
                if not any(isinstance(r, dict) and r.get("uid") == uid for r in refs):
                    continue
                meta = obj["metadata"]
                if policy == "Orphan":
                    kept = [r for r in refs if not (isinstance(r, dict) and r.get("uid") == uid)]
                    self.update(
                        info,
                        meta.get("namespace", ""),
                        {**info.served(obj), "metadata": {**meta, "ownerReferences": kept}},
                    )
                    continue
                try:
                    self.delete_ex(
                        info,
                        meta.get("namespace", ""),
                        meta["name"],
                        WriteOptions(body_options={"propagationPolicy": policy}),
                    )
                except APIError:
                    continue

    def _check_preconditions(self, info: ResourceInfo, obj: JSON, preconditions: Any) -> None:
        if not isinstance(preconditions, dict):
            return
        meta = obj["metadata"]
        name = meta.get("name", "")
        for field_name, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
            wanted = preconditions.get(field_name)
            if wanted and wanted != meta.get(field_name):
                raise APIError.conflict(
                    info.plural,
                    info.group,
                    name,
                    f"Precondition failed: {label} in precondition: {wanted}, {label} in object meta: {meta.get(field_name)}",
                )

    def delete_collection(
        self,
        info: ResourceInfo,
        namespace: str,
        list_options: ListOptions,
        options: WriteOptions | None = None,
    ) -> JSON:
        """Delete every selected object; returns the list of what was deleted."""
        listed = self.list(
            info,
            namespace,
            ListOptions(
                label_selector=list_options.label_selector,
                field_selector=list_options.field_selector,
            ),
        )
        deleted = []
        for item in listed["items"]:
            meta = item["metadata"]
            try:
                result = self.delete_ex(info, meta.get("namespace", ""), meta["name"], options)
            except APIError as err:
                if err.code == 404:
                    continue
                raise
            deleted.append(item if result.object.get("kind") == "Status" else result.object)
        listed["items"] = deleted
        return listed

    # --- convenience for fakes ----------------------------------------------------------------

    def add(self, obj: Mapping[str, Any]) -> JSON:
        """Create ``obj`` (a dict with apiVersion and kind), or replace it when it exists.

        A ``<Kind>List`` is added item by item. Returns the stored object (or the last item).
        """
        data = copy_json(dict(obj))
        kind = str(data.get("kind", ""))
        if kind.endswith("List") and isinstance(data.get("items"), list):
            stored: JSON = {}
            for item in data["items"]:
                item.setdefault("apiVersion", data.get("apiVersion"))
                item.setdefault("kind", kind[: -len("List")])
                stored = self.add(item)
            return stored
        info = self.resource_for_kind(str(data.get("apiVersion", "")), kind)
        meta = data.get("metadata") or {}
        namespace = str(meta.get("namespace") or ("default" if info.namespaced else ""))
        if self.store.get(info.key, self._key(info, namespace, str(meta.get("name", "")))):
            data["metadata"].pop("resourceVersion", None)
            return self.update(info, namespace, data)
        return self.create(info, namespace, data)


def _success(code: int) -> JSON:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": code}


def _everything(obj: JSON) -> bool:
    return True


def _with_rv(obj: JSON, revision: int) -> JSON:
    """``obj`` at ``revision``: a new top level and ``metadata``, so that an object already in
    the history (the stored one, when it is deleted) keeps the resourceVersion it had."""
    return {**obj, "metadata": {**obj["metadata"], "resourceVersion": str(revision)}}


def _object_key(obj: JSON) -> str:
    meta = obj["metadata"]
    return f"{meta.get('namespace', '')}/{meta['name']}"


def _spec_finalizers(info: ResourceInfo, obj: JSON) -> bool:
    """True when ``obj`` is a namespace whose ``spec.finalizers`` still hold it."""
    return info.key == _NAMESPACES and bool((obj.get("spec") or {}).get("finalizers"))


def _spec_of(obj: JSON) -> JSON:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}
