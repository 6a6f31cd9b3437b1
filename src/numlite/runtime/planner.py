"""Lifetime-based greedy arena planner (the TFLite Micro GreedyMemoryPlanner idea).

Buffers are placed largest first; each goes at the lowest offset that does not overlap any
already-placed buffer whose lifetime intersects its own. The resulting plan can be printed and
checked for overlaps.
"""
from dataclasses import dataclass

ALIGNMENT = 64


@dataclass
class Request:
    key: int
    size: int
    first: int   # index of the first op that writes or reads it (-1: before the first op)
    last: int    # index of the last op that uses it (n_ops: live until the end)


def _align(n):
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def plan(requests, reuse=True):
    """Return ({key: offset}, arena_size). Without ``reuse`` every buffer gets its own space."""
    offsets, placed, arena = {}, [], 0
    order = sorted(requests, key=lambda r: (-r.size, r.first, r.key))
    for r in order:
        size = _align(max(r.size, 1))
        if not reuse:
            offsets[r.key] = arena
            arena += size
            continue
        live = sorted((offsets[p.key], _align(max(p.size, 1))) for p in placed
                      if not (p.last < r.first or r.last < p.first))
        candidate = 0
        for off, sz in live:
            if candidate + size <= off:
                break
            candidate = max(candidate, off + sz)
        offsets[r.key] = candidate
        placed.append(r)
        arena = max(arena, candidate + size)
    return offsets, arena


def check(requests, offsets):
    """Raise AssertionError if two simultaneously live buffers overlap (used by tests)."""
    rs = list(requests)
    for i, a in enumerate(rs):
        for b in rs[i + 1:]:
            if a.last < b.first or b.last < a.first:
                continue
            a0, b0 = offsets[a.key], offsets[b.key]
            if a0 < b0 + max(b.size, 1) and b0 < a0 + max(a.size, 1):
                raise AssertionError("buffers %d and %d overlap while both live" % (a.key, b.key))


def describe(requests, offsets, arena):
    lines = ["arena %d bytes" % arena]
    for r in sorted(requests, key=lambda r: offsets[r.key]):
        lines.append("  tensor %4d  offset %10d  size %10d  live ops %d..%d" % (r.key, offsets[r.key], r.size, r.first, r.last))
    return "\n".join(lines)
