"""The partial-failure error of discovery."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kgen.meta import APIGroup, APIResourceList

__all__ = ["GroupDiscoveryFailedError"]


class GroupDiscoveryFailedError(Exception):
    """Some group/versions could not be discovered; the others were.

    ``failed`` maps each failed group/version (``apps/v1``, ``v1``) to its error. ``groups``
    and ``resources`` hold what the call would have returned without those group/versions, so
    a caller that can live with a partial answer catches this and reads them.
    """

    def __init__(
        self,
        failed: Mapping[str, Exception],
        groups: Sequence[APIGroup] = (),
        resources: Sequence[APIResourceList] = (),
    ) -> None:
        details = ", ".join(f"{gv}: {failed[gv]}" for gv in sorted(failed))
        super().__init__(f"unable to retrieve the complete list of server APIs: {details}")
        self.failed = dict(failed)
        self.groups = list(groups)
        self.resources = list(resources)
