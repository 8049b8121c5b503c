"""A left-to-right drawing of a directed acyclic graph without needless crossings: the
layered (Sugiyama) method, small enough to read.

1. Layers by longest path: a gate one layer right of its deepest input; a leaf just left of
   its first use (so no edge runs backwards).
2. An edge that skips layers is split by a dummy point in each layer it passes, so every
   drawn segment joins neighbouring layers and no segment can run through a box.
3. Each layer is ordered by the barycentre of its neighbours in the layer before (sweeping
   right) or after (sweeping left), then adjacent pairs are swapped while a swap removes
   crossings (transposition); the best order over all sweeps is kept. With every segment
   between neighbouring layers, the crossings of the orders are exactly the crossings drawn.
   If crossings are left, a bounded backtracking search (trying the heuristic's order first)
   looks for orders with none, which the heuristic can miss; found, they are used.
   If crossings are still left, the layers are chosen again: every gate as late as its uses
   allow, then single names moved to other layers while a move lowers the crossings the
   sweeps leave (MOVES tries), then the same search; those layers are kept if they have
   fewer crossings (or as many and fewer bends). If crossings are still left, RANDOM_TRIES
   random layerings (now and then a gate a column later, a leaf a column earlier than it
   must be; drawn from a fixed seed, so the same graph gets the same picture) each get the
   sweeps and a shorter search.
4. Rows: each box as near the mean of its neighbours' rows as the order and the spacing
   allow (isotonic regression, pool-adjacent-violators), which keeps the order, so the
   drawing has exactly the crossings counted in step 3.

Deterministic: every tie is broken by the order the names were given in."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import pairwise

SEARCH_STEPS = 60_000  # placements the search for a crossing-free order may try (about 0.1 s)
RANDOM_TRIES = 60  # random layerings tried when the chosen columns leave crossings
RANDOM_UP_TO = 60  # names (leaves and gates): a larger graph is not given the random layerings
RANDOM_SEARCH_STEPS = 2_000  # placements each random layering's search may try
CHANCES = (0.1, 0.2, 0.35, 0.5)  # tried in turn: the chance that a random layering moves a name one column
MOVES = 20  # single-name column moves the search for better columns may try
SWEEPS = 24  # barycentre sweeps (each followed by transposition); the best order is kept
ROUNDS = 12  # row placement rounds
BOX_GAP = 1.0  # rows between two boxes (labels above and below each)
DUMMY_GAP = 0.5  # rows between a bend point and its neighbour


@dataclass(frozen=True)
class Layered:
    layers: list[list[str]]  # names and dummy points, layer by layer, top to bottom
    row: dict[str, float]  # each name's and dummy point's row, 0 at the top
    routes: dict[tuple[str, str], list[str]]  # each edge's dummy points, left to right
    crossings: int

    def is_dummy(self, name: str) -> bool:
        return name.startswith(DUMMY)


DUMMY = "\x00"  # prefix of a dummy point's name: no spec name holds a NUL


@lru_cache(maxsize=64)
def layered(names: tuple[str, ...], edges: tuple[tuple[str, str], ...], widest: int) -> Layered:
    """`names` in the order given (leaves, then gates in evaluation order); `edges` source to
    target; `widest`: the most columns one band of the page holds. The random layerings may
    add columns, but never past `widest` (a picture cut into bands for a crossing it lost
    reads worse), and are not tried for a graph drawn in bands anyway or for one of more
    than RANDOM_UP_TO names (a 120-gate graph's tries took 11 s). Kept once computed (a
    document draws its picture several times, variants draw the same graph again): the
    columns' search costs up to about a second on a 30-gate graph with crossings. The drawing
    returned is shared, so it is read, never changed."""
    inputs: dict[str, list[str]] = {name: [] for name in names}
    consumers: dict[str, list[str]] = {name: [] for name in names}
    for source, target in edges:
        inputs[target].append(source)
        consumers[source].append(target)
    depth = _longest_path(names, inputs, consumers)
    drawing = _Columns.of(names, edges, depth).searched()
    if drawing.crossings:
        last = max(depth.values())
        late: dict[str, int] = {}
        for name in reversed(names):
            late[name] = min(late[other] for other in consumers[name]) - 1 if consumers[name] else last
        other = _moved(names, edges, late, inputs, consumers).searched()
        drawing = min(drawing, other, key=lambda columns: columns.cost)
    if drawing.crossings and len(names) <= RANDOM_UP_TO and len(drawing.order) <= widest:
        shuffled = _shuffled(names, edges, inputs, consumers, widest)
        if shuffled is not None and shuffled.cost < drawing.cost:
            drawing = shuffled
    return Layered(drawing.order, _rows(drawing.order, drawing.up, drawing.down), drawing.routes, drawing.crossings)


@dataclass(frozen=True)
class _Columns:
    """One choice of columns, with its bend points and the best order the sweeps found."""
    order: list[list[str]]
    up: dict[str, list[str]]  # each name's and bend point's sources, one column left
    down: dict[str, list[str]]
    routes: dict[tuple[str, str], list[str]]
    crossings: int
    points: int  # boxes and bend points: fewer bends for the same crossings read better

    @staticmethod
    def of(names: Sequence[str], edges: Sequence[tuple[str, str]], depth: dict[str, int]) -> _Columns:
        layers: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
        for name in names:
            layers[depth[name]].append(name)
        up: dict[str, list[str]] = {name: [] for name in names}
        routes: dict[tuple[str, str], list[str]] = {}
        for source, target in edges:
            previous, points = source, []
            for level in range(depth[source] + 1, depth[target]):
                point = f"{DUMMY}{source}>{target}@{level}"
                layers[level].append(point)
                up[point] = [previous]
                points.append(point)
                previous = point
            up[target].append(previous)
            routes[source, target] = points
        down: dict[str, list[str]] = {name: [] for name in up}
        for name, sources in up.items():
            for source in sources:
                down[source].append(name)
        order = _ordered(layers, up, down)
        return _Columns(order, up, down, routes, _total(order, up), len(up))

    @property
    def cost(self) -> tuple[int, int]:
        """Fewer crossings first, then fewer bends."""
        return self.crossings, self.points

    def searched(self, steps: int = SEARCH_STEPS) -> _Columns:
        """These columns in a crossing-free order if the bounded search finds one."""
        order = _crossing_free(self.order, self.up, steps) if self.crossings else None
        return replace(self, order=order, crossings=0) if order else self


def _longest_path(names: Sequence[str], inputs: dict[str, list[str]], consumers: dict[str, list[str]],
                  moved: Callable[[], bool] = lambda: False) -> dict[str, int]:
    """Columns by longest path: each gate one right of its deepest input, each leaf just left
    of its first use (names come in evaluation order, inputs first); `moved()` says, name by
    name, whether it goes one column further (a gate later, a leaf earlier). Shifted so the
    first column is 0."""
    depth: dict[str, int] = {name: 0 for name in names if not inputs[name]}
    for name in names:
        if inputs[name]:
            depth[name] = 1 + max(depth[other] for other in inputs[name]) + moved()
    for name in names:
        if not inputs[name]:
            depth[name] = min(depth[other] for other in consumers[name]) - 1 - moved() if consumers[name] else 0
    lowest = min(depth.values())
    return {name: level - lowest for name, level in depth.items()}


def _shuffled(names: Sequence[str], edges: Sequence[tuple[str, str]], inputs: dict[str, list[str]],
              consumers: dict[str, list[str]], widest: int) -> _Columns | None:
    """The best of RANDOM_TRIES random layerings (stopping at one with no crossing): each
    gate a column later than its inputs force, and each leaf a column earlier than its first
    use, each by chance. Which columns admit a crossing-free order is not found by moving one
    name at a time: on the random graphs the layerings that have one move several names at
    once, and a leaf moved left lets another leaf's edge pass round it."""
    shuffle = random.Random(0)
    best: _Columns | None = None
    for attempt in range(RANDOM_TRIES):
        chance = CHANCES[attempt % len(CHANCES)]
        depth = _longest_path(names, inputs, consumers, lambda chance=chance: shuffle.random() < chance)
        if max(depth.values()) >= widest:
            continue
        columns = _Columns.of(names, edges, depth).searched(RANDOM_SEARCH_STEPS)
        if best is None or columns.cost < best.cost:
            best = columns
        if best.crossings == 0:
            break
    return best


def _moved(names: Sequence[str], edges: Sequence[tuple[str, str]], depth: dict[str, int],
           inputs: dict[str, list[str]], consumers: dict[str, list[str]]) -> _Columns:
    """Columns where each gate sits as late as it can, then single names moved to another
    column their edges allow while a move lowers the crossings the sweeps leave (MOVES tries
    at most). Longest-path columns put a gate as far left as its inputs allow, which can send
    its output across the picture over other edges; of 40 random graphs, the 11 left with
    crossings drop from 43 to 16 this way (to 28 without the moves)."""
    depth = dict(depth)
    best = _Columns.of(names, edges, depth)
    tries = 0
    improved = True
    while improved and best.crossings and tries < MOVES:
        improved = False
        for name in names:
            lowest = 1 + max(depth[other] for other in inputs[name]) if inputs[name] else 0
            highest = min(depth[other] for other in consumers[name]) - 1 if consumers[name] else depth[name]
            for level in range(lowest, highest + 1):
                if level == depth[name] or tries >= MOVES:
                    continue
                tries += 1
                kept, depth[name] = depth[name], level
                columns = _Columns.of(names, edges, depth)
                if columns.cost < best.cost:
                    best, improved = columns, True
                else:
                    depth[name] = kept
    return best


def _crossings_between(left: list[str], right: list[str], up: dict[str, list[str]]) -> int:
    """Crossings of the segments between two neighbouring layers in these orders."""
    position = {name: index for index, name in enumerate(left)}
    ends = [(position[source], index) for index, name in enumerate(right) for source in up[name]]
    return sum(1 for i, (a, b) in enumerate(ends) for c, d in ends[i + 1:] if (a - c) * (b - d) < 0)


def _total(layers: list[list[str]], up: dict[str, list[str]]) -> int:
    return sum(_crossings_between(left, right, up) for left, right in pairwise(layers))


def _ordered(layers: list[list[str]], up: dict[str, list[str]], down: dict[str, list[str]]) -> list[list[str]]:
    current = [list(layer) for layer in layers]
    best, best_count = [list(layer) for layer in current], _total(current, up)
    for sweep in range(SWEEPS):
        if best_count == 0:
            break
        rightwards = sweep % 2 == 0
        indices = range(1, len(current)) if rightwards else range(len(current) - 2, -1, -1)
        for index in indices:
            fixed = current[index - 1] if rightwards else current[index + 1]
            current[index] = _by_barycentre(current[index], fixed, up if rightwards else down)
        _transpose(current, up, down)
        count = _total(current, up)
        if count < best_count:
            best, best_count = [list(layer) for layer in current], count
    return best


def _by_barycentre(layer: list[str], fixed: list[str], neighbours: dict[str, list[str]]) -> list[str]:
    """The layer sorted by the mean position of each name's neighbours in the fixed layer; a
    name with none keeps its place, scaled to the fixed layer's length."""
    position = {name: place for place, name in enumerate(fixed)}
    own = {name: place for place, name in enumerate(layer)}

    def centre(name: str) -> float:
        near = [position[other] for other in neighbours[name]]
        return sum(near) / len(near) if near else own[name] * len(fixed) / max(len(layer), 1)
    return sorted(layer, key=lambda name: (centre(name), own[name]))


def _crossing_free(layers: list[list[str]], up: dict[str, list[str]], steps_allowed: int) -> list[list[str]] | None:
    """Orders of every layer with no crossing between neighbouring layers, placing one name
    at a time and backing up as soon as a placed pair crosses; None if there are none or the
    search ran out of steps."""
    steps = 0
    chosen: list[list[str]] = [[] for _ in layers]

    def place(index: int, position: dict[str, int], reach: int) -> bool:
        """`reach`: the lowest place in the layer before that a placed name's sources reach."""
        nonlocal steps
        if index == len(layers):
            return True
        row = chosen[index]
        if len(row) == len(layers[index]):
            return place(index + 1, {name: at for at, name in enumerate(row)}, -1)
        steps += 1
        if steps > steps_allowed:
            raise TimeoutError
        for name in layers[index]:
            if name in row:
                continue
            sources = [position[source] for source in up[name]] if index > 0 else []
            # name goes right of every placed one: a placed one whose source lies right of one of name's crosses it
            if sources and reach > min(sources):
                continue
            row.append(name)
            if place(index, position, max(reach, *sources) if sources else reach):
                return True
            row.pop()
        return False

    try:
        return chosen if place(0, {}, -1) else None
    except TimeoutError:
        return None


def _transpose(layers: list[list[str]], up: dict[str, list[str]], down: dict[str, list[str]]) -> None:
    """Swap neighbours in a layer while a swap lowers the crossings on either side of it.
    A swap changes only the crossings between the two names' own segments, so only those
    are counted."""
    improved = True
    while improved:
        improved = False
        for index, layer in enumerate(layers):
            left = {name: at for at, name in enumerate(layers[index - 1])} if index > 0 else {}
            right = {name: at for at, name in enumerate(layers[index + 1])} if index + 1 < len(layers) else {}
            for place in range(len(layer) - 1):
                a, b = layer[place], layer[place + 1]
                if _pairs(b, a, up, left) + _pairs(b, a, down, right) < _pairs(a, b, up, left) + _pairs(a, b, down, right):
                    layer[place], layer[place + 1] = b, a
                    improved = True


def _pairs(first: str, second: str, neighbours: dict[str, list[str]], position: dict[str, int]) -> int:
    """Crossings between the segments of `first` and of `second` to a neighbouring layer
    when `first` is above `second`."""
    return sum(1 for one in neighbours[first] for other in neighbours[second] if position[one] > position[other])


def _rows(layers: list[list[str]], up: dict[str, list[str]], down: dict[str, list[str]]) -> dict[str, float]:
    """Rows that keep each layer's order and spacing, each box near its neighbours' mean."""
    def gap(a: str, b: str) -> float:
        return BOX_GAP if not a.startswith(DUMMY) and not b.startswith(DUMMY) else DUMMY_GAP

    offsets = []
    for layer in layers:
        offset = [0.0]
        for a, b in pairwise(layer):
            offset.append(offset[-1] + gap(a, b))
        offsets.append(offset)
    tallest = max(offset[-1] for offset in offsets)
    row = {name: (tallest - offset[-1]) / 2 + offset[place] for layer, offset in zip(layers, offsets) for place, name in enumerate(layer)}
    for _ in range(ROUNDS):
        for layer, offset in zip(layers, offsets):
            wanted = []
            for name in layer:
                near = [row[other] for other in (*up[name], *down[name])]
                wanted.append(sum(near) / len(near) if near else row[name])
            for name, value in zip(layer, _isotonic([w - o for w, o in zip(wanted, offset)])):
                row[name] = value
            for place, name in enumerate(layer):
                row[name] += offset[place]
    top = min(row.values())
    return {name: round(value - top, 6) for name, value in row.items()}


def _isotonic(values: list[float]) -> list[float]:
    """The non-decreasing sequence nearest `values` in squares (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [mean, count]
    for value in values:
        blocks.append([value, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, count = blocks.pop()
            blocks[-1] = [(blocks[-1][0] * blocks[-1][1] + mean * count) / (blocks[-1][1] + count), blocks[-1][1] + count]
    return [mean for mean, count in blocks for _ in range(int(count))]


def bands(column: dict[str, int], edges: Sequence[tuple[str, str]], columns: int, widest: int) -> list[range]:
    """Cuts the columns into as few consecutive bands of at most `widest` columns as can be,
    where the fewest values cross a cut (each crossing value is drawn again at the start of
    its band), the bands as even as possible after that. Dynamic programming over the cut
    positions: the best split of the first `end` columns into `count` bands."""
    count = -(-columns // widest)

    def cost(start: int, end: int) -> tuple[int, int]:
        carried = {source for source, target in edges if column[source] < start <= column[target] < end}
        return len(carried), (end - start) ** 2

    best: dict[tuple[int, int], tuple[tuple[int, int], list[range]]] = {(0, 0): ((0, 0), [])}
    for used in range(1, count + 1):
        for end in range(1, columns + 1):
            options = [((ghosts + extra, even + square), [*split, range(start, end)])
                       for start in range(max(0, end - widest), end) if (used - 1, start) in best
                       for (ghosts, even), split in [best[used - 1, start]] for extra, square in [cost(start, end)]]
            if options:
                best[used, end] = min(options, key=lambda option: option[0])
    return best[count, columns][1]
