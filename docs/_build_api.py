"""Generate ``docs/api.md``, the API reference, from skmmm's docstrings.

Every public name (the ``__all__`` of the package and of its public modules)
gets a section with its signature and its numpydoc docstring rendered as
Markdown. Run it after adding a public name or changing a docstring::

    python docs/_build_api.py

``tests/test_docs.py`` fails when a public name has no section in
``docs/api.md`` or a section documents a name that is no longer public.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

API_PAGE = Path(__file__).with_name("api.md")

# Public modules in the order of the reference; the ones that are not (yet)
# part of the installed package are left out.
MODULES = (
    "skmmm.regressor",
    "skmmm.preprocessing",
    "skmmm.priors",
    "skmmm.transforms",
    "skmmm.attribution",
    "skmmm.optimize",
    "skmmm.model_selection",
    "skmmm.plot",
    "skmmm.report",
    "skmmm.io",
    "skmmm.datasets",
    "skmmm.utils",
)

SECTION_HEADER = re.compile(r"^(\s*)([A-Z][A-Za-z ]+)\n\1-{3,}\s*$", re.MULTILINE)
LIST_SECTIONS = (
    "Parameters",
    "Attributes",
    "Returns",
    "Yields",
    "Raises",
    "Warns",
    "See Also",
)
MAX_VALUE_CHARS = 300
# :class:`~sklearn.utils.Bunch` -> `Bunch`, :func:`adstock` -> `adstock`
SPHINX_ROLE = re.compile(r":[a-z]+:`~?(?:[\w.]+\.)?([\w]+)`")


def public_modules() -> list[ModuleType]:
    """The public modules of skmmm that can be imported."""
    modules = []
    for name in MODULES:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
    return modules


def public_names() -> dict[str, list[str]]:
    """Module name -> the public names it defines (its ``__all__``), sorted."""
    return {
        module.__name__: sorted(getattr(module, "__all__", []))
        for module in public_modules()
    }


def top_level_names() -> list[str]:
    """``skmmm.__all__`` without ``__version__``."""
    import skmmm

    return sorted(name for name in skmmm.__all__ if not name.startswith("__"))


def home_module(name: str) -> str:
    """The public module whose section documents the top-level name ``name``."""
    import skmmm

    obj = getattr(skmmm, name)
    for module, names in public_names().items():
        if name in names and getattr(importlib.import_module(module), name) is obj:
            return module
    raise ValueError(
        f"skmmm.{name} is not in the __all__ of any module of MODULES; add its "
        "module to MODULES in docs/_build_api.py."
    )


# ------------------------------------------------------------ docstrings


def _split_sections(doc: str) -> Iterator[tuple[str | None, str]]:
    """(section title or None for the text before the first one, body)."""
    position, title = 0, None
    for match in SECTION_HEADER.finditer(doc):
        yield title, doc[position : match.start()]
        title, position = match.group(2).strip(), match.end()
    yield title, doc[position:]


def _render_list(body: str) -> str:
    """numpydoc ``name : type`` entries with indented descriptions, as a list."""
    lines = []
    for line in textwrap.dedent(body).strip("\n").splitlines():
        if line and not line[0].isspace():
            name, _, kind = line.partition(" : ")
            entry = f"- `{name.strip()}`"
            lines.append(f"{entry} : {kind.strip()}" if kind else entry)
            lines.append("")
        elif line.strip():
            lines.append("  " + line.strip())
    return "\n".join(lines).strip()


def _render_examples(body: str) -> str:
    """Doctest examples as a ``pycon`` block (shown, not executed by the docs test)."""
    text = textwrap.dedent(body).strip("\n")
    blocks, prose, code = [], [], []
    for line in text.splitlines() + [""]:
        if line.startswith((">>>", "...")) or (code and line.strip()):
            if prose and any(p.strip() for p in prose):
                blocks.append("\n".join(prose).strip())
            prose = []
            code.append(line)
        else:
            if code:
                blocks.append("```pycon\n" + "\n".join(code) + "\n```")
                code = []
            prose.append(line)
    if prose and any(p.strip() for p in prose):
        blocks.append("\n".join(prose).strip())
    return "\n\n".join(blocks)


def render_docstring(obj: Any) -> str:
    """A numpydoc docstring as Markdown."""
    doc = SPHINX_ROLE.sub(r"`\1`", inspect.getdoc(obj) or "")
    # reST's "text::" before an indented block; Markdown shows the block as code.
    doc = re.sub(r"::$", ":", doc, flags=re.MULTILINE)
    parts = []
    for title, body in _split_sections(doc):
        if title is None:
            parts.append(textwrap.dedent(body).strip())
        elif title in LIST_SECTIONS:
            parts.append(f"**{title}**\n\n{_render_list(body)}")
        elif title == "Examples":
            parts.append(f"**{title}**\n\n{_render_examples(body)}")
        else:
            parts.append(f"**{title}**\n\n{textwrap.dedent(body).strip()}")
    return "\n\n".join(part for part in parts if part)


def _signature(name: str, obj: Any) -> str:
    try:
        signature = str(inspect.signature(obj))
    except (TypeError, ValueError):
        return name
    # Postponed annotations are strings: show ``x: int``, not ``x: 'int'``.
    signature = re.sub(r"(: |-> )'([^']*)'", r"\1\2", signature)
    # Reprs of default callables carry memory addresses that change per run.
    return re.sub(r" at 0x[0-9a-f]+", "", f"{name}{signature}")


def _value_summary(value: Any) -> str:
    if (
        isinstance(value, dict)
        and value
        and all(
            hasattr(v, "distribution") and hasattr(v, "parameters")
            for v in value.values()
        )
    ):
        rows = ["| name | distribution | parameters |", "|---|---|---|"]
        for key, spec in value.items():
            params = ", ".join(f"{k}={v:g}" for k, v in spec.parameters.items())
            rows.append(
                f"| `{key}` | {spec.distribution.__name__} | {params or 'set at fit'} |"
            )
        return "\n".join(rows)
    text = repr(value)
    if len(text) > MAX_VALUE_CHARS:
        text = text[:MAX_VALUE_CHARS] + " ..."
    return f"```python\n{text}\n```"


def _methods(cls: type) -> Iterator[tuple[str, Any]]:
    """Public methods and properties defined by ``cls`` itself."""
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, property) or inspect.isfunction(member):
            yield name, member


def render_name(module: ModuleType, name: str) -> str:
    """The section of one public name."""
    obj = getattr(module, name)
    qualified = f"{module.__name__}.{name}"
    if not (inspect.isclass(obj) or callable(obj)):
        return f"### {qualified}\n\n{_value_summary(obj)}\n"
    kind = "class" if inspect.isclass(obj) else "function"
    parts = [
        f"### {qualified}",
        f"*{kind}*\n\n```python\n{_signature(name, obj)}\n```",
        render_docstring(obj),
    ]
    if inspect.isclass(obj):
        for method_name, method in _methods(obj):
            if isinstance(method, property):
                header = f"#### {name}.{method_name} (property)"
                doc = render_docstring(method)
            else:
                signature = _signature(method_name, method).replace("(self, ", "(")
                signature = signature.replace("(self)", "()")
                header = f"#### {name}.{method_name}\n\n```python\n{signature}\n```"
                doc = render_docstring(method)
            parts.append(f"{header}\n\n{doc}" if doc else header)
    return "\n\n".join(part for part in parts if part) + "\n"


def build_api_page() -> str:
    """The whole Markdown page."""
    import skmmm

    modules = public_modules()
    lines = [
        "# API reference",
        "",
        "Generated from the docstrings by `python docs/_build_api.py`; do not "
        "edit by hand.",
        "",
        "## Top-level names",
        "",
        "`from skmmm import ...` gives these names; each is documented in its "
        "module's section below.",
        "",
        "| name | documented in |",
        "|---|---|",
    ]
    for name in top_level_names():
        module = home_module(name)
        anchor = f"{module}{name}".replace(".", "").lower()
        lines.append(f"| `skmmm.{name}` | [`{module}.{name}`](#{anchor}) |")
    lines += ["", f"`skmmm.__version__` is `{skmmm.__version__!r}`.", ""]
    for module in modules:
        names = sorted(getattr(module, "__all__", []))
        if not names:
            continue
        summary = (inspect.getdoc(module) or "").split("\n\n")[0].strip()
        lines += [f"## {module.__name__}", "", summary, ""]
        for name in names:
            lines.append(render_name(module, name))
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    API_PAGE.write_text(build_api_page(), encoding="utf-8")
    print(f"wrote {API_PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
