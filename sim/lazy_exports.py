"""Public names of a package imported on first use (PEP 562): a package lists each name and
the module it lives in, and pays for importing that module only when the name is used."""

from __future__ import annotations

import importlib
import sys


def lazy_exports(package: str, exports: dict[str, str]):
    """The `__getattr__` and `__dir__` of `package`, whose public names are `exports`
    (name -> module): a name is imported from its module when first asked for, then kept."""
    def __getattr__(name: str):
        if name in exports:
            value = getattr(importlib.import_module(exports[name]), name)
            setattr(sys.modules[package], name, value)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(list(vars(sys.modules[package])) + list(exports))

    return __getattr__, __dir__
