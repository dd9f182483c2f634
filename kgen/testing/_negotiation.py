"""Output negotiation of resource requests: what an ``Accept`` header asks the server to send.

kube-apiserver's rules, for the representations this server can make:

* The clauses are tried by quality (``q``, default 1; concrete types before wildcards), then in
  the order written. A clause is served when its media type is one the server serves
  (:data:`SERVED_MEDIA_TYPES`, or a wildcard) and its parameters ask for something it can do:
  ``as``/``g``/``v`` naming ``PartialObjectMetadata``, ``PartialObjectMetadataList`` or
  ``Table`` in ``meta.k8s.io`` ``v1`` or ``v1beta1`` (``Table`` only for JSON and YAML), and
  ``stream`` only ``watch``. Other parameters are ignored. The first served clause wins, and
  no clause served is a 406 ``NotAcceptable`` naming the served media types.
* The choice is made before the request runs. Only then does the answer meet the object: a
  ``PartialObjectMetadata`` of a list, or a ``PartialObjectMetadataList`` of one object, is a
  406 too (no later clause is tried), and a ``Status`` is always sent as it is.
* In a watch every event's object is converted on its own; one that cannot be (an object
  asked for as a list) is sent as it is. ``Table`` watches leave bookmarks as they are.

Bodies: ``application/vnd.kubernetes.protobuf`` is served for the built-in kinds of the
derived protobuf table (objects, lists, ``Status``, ``PartialObjectMetadata`` and watch
streams; see :mod:`kgen.testing._protoencode`). Custom resources have no protobuf form, as in
kube-apiserver: a protobuf clause is passed over for them (``protobuf, */*`` gets JSON, a
protobuf-only Accept a 406). Deliberate differences: a built-in kind the table lacks (the
``apiextensions.k8s.io`` kinds, whose .proto file is not in the derived set) is treated like a
custom resource, and YAML, when negotiated, is answered in JSON (JSON is YAML).

Pure functions and an immutable :class:`Output`; thread-safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from kgen.testing._encoded import EncodedObjects
from kgen.testing._errors import APIError
from kgen.testing._partial import META_GROUP, as_partial, as_partial_list
from kgen.testing._protobody import CONTENT_TYPE as PROTOBUF
from kgen.testing._protobody import table as protobuf_table
from kgen.testing._protoencode import encodable, encode_object, encode_watch_event
from kgen.testing._registry import ResourceInfo
from kgen.testing._table import to_table

__all__ = ["SERVED_MEDIA_TYPES", "Output", "negotiate"]

JSON = dict[str, Any]

SERVED_MEDIA_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
"""The media types kube-apiserver lists in a 406 for resources (in its order)."""

_PARTIAL = "PartialObjectMetadata"
_PARTIAL_LIST = "PartialObjectMetadataList"
_TABLE = "Table"
_TABLE_MEDIA = ("application/json", "application/yaml")
_STREAMING_MEDIA = ("application/json", "application/vnd.kubernetes.protobuf")
_JSON = "application/json"
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True)
class Output:
    """The representation negotiated for one request: ``kind`` ``""`` is the object itself,
    else the ``meta.k8s.io/<version>`` kind to convert to."""

    kind: str = ""
    version: str = "v1"
    media_type: str = _JSON
    """``application/json`` or ``application/vnd.kubernetes.protobuf``: how bodies are written."""

    def encode(
        self, info: ResourceInfo, obj: JSON, encoded: EncodedObjects | None = None
    ) -> tuple[str, bytes]:
        """``(Content-Type, body)`` answering with ``obj`` (see :meth:`render`); with
        ``encoded``, the stored objects in it are written from their cached bodies (the same
        bytes, :mod:`kgen.testing._encoded`)."""
        body = self.render(info, obj)
        if self.media_type == PROTOBUF and encodable(body):
            if encoded is not None and body is obj:
                return PROTOBUF, encoded.protobuf_answer(info.key, info.list_kind, body)
            return PROTOBUF, encode_object(body)
        if encoded is not None and body is obj:
            return _JSON, encoded.json_answer(info.key, info.list_kind, body)
        return _JSON, _encoder.encode(body)

    @property
    def stream_type(self) -> str:
        """The Content-Type of a watch stream in this representation."""
        return f"{PROTOBUF};stream=watch" if self.media_type == PROTOBUF else _JSON

    def frame(
        self, info: ResourceInfo, event: JSON, encoded: EncodedObjects | None = None
    ) -> bytes:
        """One watch event as the stream sends it: a length-prefixed protobuf frame, or a
        JSON line (with ``encoded``, its object written from its cached body)."""
        converted = self.event(info, event)
        if self.media_type == PROTOBUF:
            if encoded is not None and converted is event:
                return encoded.protobuf_event(info.key, event)
            return encode_watch_event(converted)
        if encoded is not None and converted is event:
            return encoded.json_event(info.key, event)
        return _encoder.encode(converted) + b"\n"

    def render(self, info: ResourceInfo, obj: JSON) -> JSON:
        """The body answering with ``obj`` (an object of ``info``, its list, or a Status).

        Raises a 406 :class:`APIError` when ``obj`` cannot take this representation."""
        if not self.kind or obj.get("kind") == "Status":
            return obj
        is_list = obj.get("kind") == info.list_kind
        if self.kind == _TABLE:
            if is_list:
                return to_table(
                    info, obj.get("items") or [], obj.get("metadata") or {}, self.version
                )
            version_only = {
                "resourceVersion": (obj.get("metadata") or {}).get("resourceVersion", "")
            }
            return to_table(info, [obj], version_only, self.version)
        if self.kind == _PARTIAL:
            if is_list:
                raise _not_acceptable(
                    f"you requested {_PARTIAL}, but the requested object is a list "
                    f"({_go_type(info, info.list_kind)})"
                )
            return as_partial(obj, self.version)
        if not is_list:
            raise _not_acceptable(
                f"you requested {_PARTIAL_LIST}, but the requested object is not a list "
                f"({_go_type(info, info.kind)})"
            )
        return as_partial_list(obj, self.version)

    def event(self, info: ResourceInfo, event: JSON) -> JSON:
        """A watch event (``{"type", "object"}``) as this representation sends it."""
        obj = event["object"]
        if not self.kind or event["type"] == "ERROR" or obj.get("kind") == "Status":
            return event
        if self.kind == _PARTIAL:
            return {"type": event["type"], "object": as_partial(obj, self.version)}
        if self.kind == _TABLE and event["type"] != "BOOKMARK" and obj.get("kind") == info.kind:
            return {"type": event["type"], "object": self.render(info, obj)}
        return event


def negotiate(accept: str, info: ResourceInfo) -> Output:
    """The representation ``accept`` asks for (see the module docstring); a 406
    :class:`APIError` when the server can serve none of its clauses."""
    if not accept.strip():
        return Output()
    served_types = SERVED_MEDIA_TYPES if _has_protobuf(info) else _NO_PROTOBUF
    for media_type, params in _clauses(accept):
        for served in served_types:
            if _matches(media_type, served):
                output = _acceptable(served, params)
                if output is not None:
                    return output
    raise APIError(
        406,
        "NotAcceptable",
        f"only the following media types are accepted: {', '.join(served_types)}",
    )


_NO_PROTOBUF = tuple(media for media in SERVED_MEDIA_TYPES if media != PROTOBUF)


def _has_protobuf(info: ResourceInfo) -> bool:
    """Whether objects of ``info`` can be sent in protobuf (built-in kinds of the table)."""
    return not info.custom and protobuf_table().message_of(info.api_version, info.kind) is not None


def _clauses(accept: str) -> list[tuple[str, dict[str, str]]]:
    """``(media type, parameters)`` of each clause, best first (stable for equal ranks)."""
    ranked: list[tuple[float, bool, bool, int, str, dict[str, str]]] = []
    for position, clause in enumerate(accept.split(",")):
        media_type, *rest = (part.strip() for part in clause.split(";"))
        if "/" not in media_type:
            continue
        params: dict[str, str] = {}
        for part in rest:
            key, _, value = part.partition("=")
            params[key.strip()] = value.strip().strip('"')
        try:
            quality = float(params.pop("q", "1"))
        except ValueError:
            quality = 1.0
        main, _, sub = media_type.lower().partition("/")
        ranked.append((-quality, main == "*", sub == "*", position, f"{main}/{sub}", params))
    ranked.sort(key=lambda entry: entry[:4])
    return [(entry[4], entry[5]) for entry in ranked]


def _matches(media_type: str, served: str) -> bool:
    main, _, sub = media_type.partition("/")
    served_main = served.partition("/")[0]
    return media_type == served or (main == served_main and sub == "*") or media_type == "*/*"


def _acceptable(served: str, params: dict[str, str]) -> Output | None:
    """The output a clause matched to ``served`` asks for, or ``None`` if it cannot be had."""
    stream = params.get("stream", "")
    if stream and (stream != "watch" or served not in _STREAMING_MEDIA):
        return None
    media = PROTOBUF if served == PROTOBUF else _JSON
    if not any(key in params for key in ("as", "g", "v")):
        return Output(media_type=media)
    kind, group, version = params.get("as", ""), params.get("g", ""), params.get("v", "")
    if group != META_GROUP or version not in ("v1", "v1beta1"):
        return None
    if kind in (_PARTIAL, _PARTIAL_LIST) or (kind == _TABLE and served in _TABLE_MEDIA):
        return Output(kind, version, media)
    return None


def _go_type(info: ResourceInfo, kind: str) -> str:
    """How kube-apiserver's messages name the stored type of ``kind`` (``*core.PodList``)."""
    if info.custom:
        return (
            "*unstructured.UnstructuredList"
            if kind == info.list_kind
            else "*unstructured.Unstructured"
        )
    return f"*{info.group.split('.')[0] or 'core'}.{kind}"


def _not_acceptable(message: str) -> APIError:
    return APIError(406, "NotAcceptable", message)
