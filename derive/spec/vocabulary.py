"""The spec's vocabulary: the choices a field may take, the patterns a name must match,
the characters no user text may hold, the user-error type, and how a field and a value are
quoted in a message. Both the
schema and its messages read these, and so does the engine (the rounding policy's kinds),
so they live apart from either."""

from __future__ import annotations

import re
from typing import Any

ACTIVATIONS = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "softmax")
LOSSES = ("squared_error", "half_squared_error", "mse", "binary_cross_entropy", "cross_entropy")
LEARNING_RATE = "eta"  # the learning rate's symbol: no input, unit, parameter or loss may take it
# The optimizer's hyper-parameters as symbols (optimizer field -> symbol name): the names are
# taken, like eta, when the spec's optimizer uses them.
HYPER_SYMBOLS = {"momentum": "mu", "rho": "rho", "beta1": "beta1", "beta2": "beta2", "epsilon": "epsilon",
                 "weight_decay": "lambda"}
# Which hyper-parameters each optimizer reads (weight_decay: every one).
OPTIMIZER_FIELDS = {
    "sgd": (), "momentum": ("momentum",), "nesterov": ("momentum",), "rmsprop": ("rho", "epsilon"),
    "adam": ("beta1", "beta2", "epsilon"), "adamw": ("beta1", "beta2", "epsilon"),
}
NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
ACTIVATION_NAME = r"^[A-Za-z][A-Za-z0-9_]{0,29}$"
LOSS_NAME = r"^[A-Za-z][A-Za-z0-9_ ]{0,39}$"
DATA_FILE = r"(?i)^[^\x00]+\.(npy|csv)$"
SAMPLES_FILE = r"(?i)^[^\x00]+\.csv$"
MAX_SAMPLES = 64  # a mini-batch worked by hand; larger batches are the matrix form's (data:)


class SpecError(Exception):
    """A mistake in the user's input, already worded for the user."""


KINDS = ("weighted_sum", "activation", "output", "loss", "factor", "gradient", "weight")
MODES = ("significant", "decimals")
CARRIES = ("rounded", "exact")
ROUNDINGS = ("half_up", "half_even", "truncate")


def field_path(parts: list[Any] | tuple[Any, ...]) -> str:
    """`layers[0].units`, as the spec is written; a key that is not a plain name is quoted,
    so a message stays one readable line whatever the key holds."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            text += ("." if text else "") + part
        else:
            text += f"[{shown(part)}]"
    return text or "(top level)"


def shown(value: Any) -> str:
    """A value as the message quotes it: repr, cut short."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CHARACTER_WORDS = {"\x00": "NUL", "\t": "a tab", "\n": "a line break", "\r": "a line break", "\x7f": "DEL"}


def unprintable(text: str) -> str | None:
    """The first character of `text` no page should print, described (`U+0000 (NUL)`), or
    None: control characters (a NUL or DEL stops XeLaTeX; a line break or a blank line ends a
    heading early), Unicode's line and paragraph separators, and the direction controls that
    make a name display as another. A cell with one is a damaged file (a quote not closed) or
    an attack; there is no way to print it faithfully."""
    found = _UNPRINTABLE.search(text)
    if found is None:
        return None
    character = found.group()
    return f"U+{ord(character):04X} ({_CHARACTER_WORDS.get(character, 'a control character')})"
