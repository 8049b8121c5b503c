"""derive: worked forward- and backward-propagation examples, derived symbolically.

`derive.load`, `derive.Problem` and `derive.SpecError` are imported on first use, so the
command line pays only for what a command needs (`derive cost` imports no SymPy)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import Problem, load
    from .spec.schema import SpecError

__all__ = ["Problem", "SpecError", "load"]


def __getattr__(name: str) -> Any:
    if name in ("Problem", "load"):
        from . import api

        return getattr(api, name)
    if name == "SpecError":
        from .spec.schema import SpecError

        return SpecError
    raise AttributeError(f"module 'derive' has no attribute {name!r}")
