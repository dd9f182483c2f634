"""The models emitter: one module of msgspec Structs per group/version.

:func:`render_models` writes the ``models`` subpackage of a generated package;
:func:`model_ref` tells the other emitters where a definition's class lives. Both are pure and
thread-safe; the API model must not be mutated after they first see it.
"""

from __future__ import annotations

from kgen.generator.models import _style as style
from kgen.generator.models._applyconfig import render_applyconfigurations
from kgen.generator.models._layout import KGEN_META, layout_of
from kgen.generator.models._render import render_module
from kgen.spec.model import APIModel

__all__ = ["model_ref", "render_applyconfigurations", "render_models"]


def model_ref(api: APIModel, definition: str) -> tuple[str, str]:
    """``(module, class name)`` of a definition's class.

    The module is ``kgen.meta`` for the ``meta/v1`` types the runtime provides, and otherwise
    relative to the generated package, with a leading dot: ``(".models.core_v1", "Pod")``.
    Raises ``KeyError`` naming the definition when it is not emitted as a class (a free-form or
    scalar schema, or an unknown name).
    """
    found = layout_of(api).classes.get(definition)
    if found is None:
        raise KeyError(f"definition {definition!r} has no generated class")
    module, cls = found
    return (module if module == KGEN_META else f".models.{module}", cls)


def render_models(api: APIModel, package: str) -> dict[str, str]:
    """The files of ``<package>/models``: path relative to the package folder -> source.

    Sources are laid out as black and isort would write them (for every real spec; see
    :mod:`kgen.generator.models._style`), so they need no formatting pass. ``package`` is the
    generated package's import name, named in the ``models`` package docstring; model modules
    import each other relatively.
    """
    layout = layout_of(api)
    modules = list(layout.modules)
    listing = "\n".join(f"- ``{m}``" for m in modules)
    files = {
        "models/__init__.py": style.docstring(
            f"Model classes of {package}, one module per API group/version (import the module"
            " you need):\n\n" + listing,
            "",
        )
        + "\n"
    }
    for module in modules:
        files[f"models/{module}.py"] = render_module(api, layout, module)
    return files
