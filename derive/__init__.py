"""derive: worked forward- and backward-propagation examples, derived symbolically."""

from .problem import Problem, load
from .spec import SpecError

__all__ = ["Problem", "SpecError", "load"]
