"""Which generated files black formats, and what happens to invalid ones."""

from __future__ import annotations

import pytest

from kgen.generator.formatting import FormatError, format_sources, needs_black

LONG_NAME = "x" * 120
DOC_LINE = "word " * 30


def test_only_a_too_long_line_of_code_needs_black() -> None:
    assert not needs_black("a.py", "x = 1\n")
    assert needs_black("a.py", f"{LONG_NAME} = 1\n")
    assert not needs_black("a.txt", f"{LONG_NAME} = 1\n")
    # docstring text is kept by black however long ...
    assert not needs_black("a.py", f'"""{DOC_LINE}"""\n')
    assert not needs_black("a.py", f'"""{DOC_LINE}\n{DOC_LINE}\nend."""\nx = 1\n')
    # ... but the closing quotes of a multi-line docstring are moved off a too-long line
    assert needs_black("a.py", f'"""Doc.\n\n{DOC_LINE}"""\n')
    # code after a docstring is code again
    assert needs_black("a.py", f'"""Doc.\n\nMore."""\n{LONG_NAME} = 1\n')


def test_format_sources_runs_black_only_where_needed() -> None:
    loose = "x = [ 1,2 ]\n"  # black would change it, but no line is too long
    call = f"{LONG_NAME[:60]} = function_name(argument_one, argument_two, argument_three_x)\n"
    done = format_sources({"loose.py": loose, "call.py": call, "py.typed": ""})
    assert list(done) == ["loose.py", "call.py", "py.typed"]
    assert done["loose.py"] == loose and done["py.typed"] == ""
    assert done["call.py"] == (
        f"{LONG_NAME[:60]} = function_name(\n"
        "    argument_one, argument_two, argument_three_x\n"
        ")\n"
    )


@pytest.mark.parametrize("text", ["def (:\n", f"def {LONG_NAME}(:\n"])
def test_invalid_python_is_a_generator_bug_naming_the_file(text: str) -> None:
    with pytest.raises(FormatError, match=r"kgen produced invalid Python in pkg/broken\.py"):
        format_sources({"pkg/ok.py": "x = 1\n", "pkg/broken.py": text})
