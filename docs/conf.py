"""Sphinx configuration of skmmm's API reference, built from the docstrings.

Build the reference with::

    python -m sphinx -b html docs docs/_build/html

and open ``docs/_build/html/index.html``. The guide pages (the ``.md`` files
of ``docs/``) are read as Markdown on GitHub and are not part of this build.

Every public name is documented: the ``__all__`` of the package and of each
public module (every module of ``skmmm`` whose name does not start with an
underscore, but the ones in ``NOT_IN_REFERENCE``). A new public module or a new
name in an ``__all__`` is picked up without editing any page:
``PUBLIC_API`` below reaches the templates in ``_templates/autosummary``
through ``autosummary_context``. ``tests/test_docs.py`` runs this build with
warnings as errors and checks that every public name is in it.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import skmmm

# Modules with an __all__ that are not part of the user-facing reference.
NOT_IN_REFERENCE = {
    "skmmm.cli": "the command line; `skmmm --help` documents it",
    "skmmm.models": "the NumPyro model functions behind the estimators; "
    "docs/model.md describes the model",
}
# The reference lists these modules first, in this order, then any other
# public module alphabetically.
MODULE_ORDER = (
    "skmmm.regressor",
    "skmmm.preprocessing",
    "skmmm.priors",
    "skmmm.transforms",
    "skmmm.attribution",
    "skmmm.optimize",
    "skmmm.model_selection",
    "skmmm.diagnostics",
    "skmmm.plot",
    "skmmm.report",
    "skmmm.io",
    "skmmm.datasets",
    "skmmm.utils",
)


def public_modules() -> list[str]:
    """The public modules of skmmm the reference documents, in its order."""
    found = {
        f"skmmm.{info.name}"
        for info in pkgutil.iter_modules(skmmm.__path__)
        if not info.name.startswith("_")
    } - set(NOT_IN_REFERENCE)
    ordered = [name for name in MODULE_ORDER if name in found]
    return ordered + sorted(found - set(ordered))


# Constants whose repr is longer than this are shown without their value.
MAX_VALUE_CHARS = 120


def kind(obj: object) -> str:
    """How the templates document ``obj``: class, function, data or long data."""
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "data" if len(repr(obj)) <= MAX_VALUE_CHARS else "long data"


def public_api() -> dict[str, list[tuple[str, str]]]:
    """Module -> (name, kind) of each name of its ``__all__``, sorted."""
    api = {}
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        api[module_name] = [
            (name, kind(getattr(module, name)))
            for name in sorted(getattr(module, "__all__", []))
        ]
    return api


def top_level_names(api: dict[str, list[tuple[str, str]]]) -> list[tuple[str, str]]:
    """(name, module that documents it) for ``skmmm.__all__`` but ``__version__``."""
    rows = []
    for name in sorted(n for n in skmmm.__all__ if not n.startswith("__")):
        obj = getattr(skmmm, name)
        homes = [
            module
            for module, names in api.items()
            if name in dict(names)
            and getattr(importlib.import_module(module), name) is obj
        ]
        if not homes:
            raise ValueError(f"skmmm.{name} is in no public module's __all__")
        # The module that defines it, else the first that exports it.
        defining = getattr(obj, "__module__", None)
        rows.append((name, defining if defining in homes else homes[0]))
    return rows


PUBLIC_API = public_api()

project = "skmmm"
author = "the skmmm authors"
version = release = skmmm.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "numpydoc"]
root_doc = "index"
source_suffix = {".rst": "restructuredtext"}
templates_path = ["_templates"]
exclude_patterns = ["_build", "dev"]

autosummary_generate = True
autosummary_context = {
    "public_api": PUBLIC_API,
    "top_level": top_level_names(PUBLIC_API),
    "skmmm_version": skmmm.__version__,
}
autodoc_member_order = "bysource"
# Signatures show names and defaults; the numpydoc Parameters and Returns
# sections give the types (and say more than the annotations do).
autodoc_typehints = "none"

# numpydoc: the templates document each class's methods with autodoc, so
# numpydoc does not add its own member tables.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False


def skip_metadata_requests(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated ``set_*_request`` methods.

    scikit-learn adds them to every estimator class for metadata routing;
    their docstrings are scikit-learn's (they refer to its glossary).
    """
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def drop_type_docstrings(app, what, name, obj, options, lines):
    """Give a constant without a doc comment no text, not its type's docstring.

    autodoc falls back to ``type(obj).__doc__`` (``float``'s "Convert a
    string or number to a floating point number") for such a constant.
    """
    if what in ("data", "attribute") and lines:
        if "\n".join(lines).strip() == (inspect.getdoc(type(obj)) or "").strip():
            lines.clear()


def setup(app):
    app.connect("autodoc-skip-member", skip_metadata_requests)
    # Before numpydoc (priority 500) rewrites the docstring.
    app.connect("autodoc-process-docstring", drop_type_docstrings, priority=400)


html_theme = "alabaster"
html_title = f"skmmm {release} API reference"
