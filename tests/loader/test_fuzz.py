"""Malformed models: numlite must refuse them with numlite.ModelError, never crash or hang.

Every mutant of a few valid models (truncations, random bytes and bits, offsets and vector
lengths overwritten with hostile values, tables pointed at themselves) goes through
``Interpreter(model_content=...)``, ``allocate_tensors()`` and ``invoke()`` with zero inputs.
Each step must either succeed or raise ModelError (a ValueError). Time is bounded by
construction (the reader's work budget, the executor's arena cap, which the tests lower to keep
them cheap), and the tests check it per case; memory growth is checked for the whole run.
"""
import struct
import time
import traceback
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import numlite
from numlite.runtime import executor
from numlite.schema.reader import FlatBufferReader
from numlite.schema import model_to_bytes

from harness import examples
from model_zoo import small_bytes, variable_bytes, zoo_bytes

# A mutant may ask for a few large tensors; this cap keeps each case cheap while still letting
# the seeds run (the default cap is for real models).
ARENA_CAP = 1 << 26
SLOW_CASE_SECONDS = 2.0


def _seeds():
    small = small_bytes()
    return {
        "zoo": zoo_bytes(),
        "zoo_external_buffers": zoo_bytes(external_buffers=True),
        "variable": variable_bytes(),
        "small_converter_made": small,
        "small_external_buffers": model_to_bytes(numlite.load_model(model_content=small), external_buffers=True),
    }


SEEDS = _seeds()


@pytest.fixture(autouse=True)
def small_arena(monkeypatch):
    monkeypatch.setattr(executor, "MAX_ARENA_BYTES", ARENA_CAP)


def exercise(data):
    """Run a model end to end with zero inputs; return how far it got. Anything but success or
    ModelError propagates (ValueError is accepted where LiteRT raises it for a valid model too)."""
    if not data:   # not a model error: the argument is missing, as in LiteRT
        with pytest.raises(ValueError, match="must be specified"):
            numlite.Interpreter(model_content=data)
        return "rejected at load"
    try:
        it = numlite.Interpreter(model_content=data)
    except numlite.ModelError:
        return "rejected at load"
    it.get_tensor_details()
    it.get_signature_list()
    try:
        inputs, outputs = it.get_input_details(), it.get_output_details()
    except ValueError:   # e.g. blockwise details naming a missing tensor, as in LiteRT
        inputs, outputs = [], []
    try:
        it.allocate_tensors()
    except numlite.ModelError:
        return "rejected at allocate"
    for d in inputs:
        try:
            it.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
        except ValueError:   # a constant or odd-typed input: set_tensor's own validation
            pass
    try:
        it.invoke()
    except numlite.ModelError:
        return "rejected at invoke"
    for d in outputs:
        try:
            it.get_tensor(d["index"])
        except ValueError:   # e.g. a zero-byte constant output ("Invalid tensor size.")
            pass
    return "ran"


class Campaign:
    """Runs mutants, collecting (instead of stopping at) unexpected exceptions and slow cases."""

    def __init__(self):
        self.failures, self.outcomes, self.slowest = [], {}, (0.0, None)

    def run(self, label, data):
        t0 = time.perf_counter()
        try:
            result = exercise(bytes(data))
        except Exception as e:  # noqa: BLE001 - collected and reported below
            frames = [f for f in traceback.extract_tb(e.__traceback__) if "/numlite/" in f.filename]
            where = "%s:%d" % (frames[-1].filename.split("/numlite/")[-1], frames[-1].lineno) if frames else "?"
            # An exception from a kernel's prepare or eval counts as much as one from the
            # reader, loader or interpreter: each campaign checks its own mutants.
            result = "kernel leak" if where.startswith("kernels/") else "leaked"
            self.failures.append("%s: %s: %s (%s at %s)" % (label, type(e).__name__, str(e)[:200], result, where))
        dt = time.perf_counter() - t0
        self.outcomes[result] = self.outcomes.get(result, 0) + 1
        if dt > self.slowest[0]:
            self.slowest = (dt, label)

    def check(self, min_cases):
        total = sum(self.outcomes.values())
        assert total >= min_cases, self.outcomes
        assert not self.failures, "%d of %d mutants raised something other than ModelError:\n%s" % (
            len(self.failures), total, "\n".join(self.failures[:15]))
        assert self.slowest[0] < SLOW_CASE_SECONDS, "slowest case %s took %.2f s" % (self.slowest[1], self.slowest[0])


class _SiteRecorder(FlatBufferReader):
    """The reader, noting where the model keeps offsets, lengths and tables."""

    def __init__(self, buf):
        super().__init__(buf)
        self.offsets, self.lengths, self.tables = {}, set(), set()

    def uoffset(self, pos, what):
        self.offsets[pos] = what
        return super().uoffset(pos, what)

    def table(self, pos, name, depth=0):
        self.tables.add(pos)
        return super().table(pos, name, depth)

    def vector(self, pos, elem, what, depth, as_ref=False):
        self.lengths.add(pos)
        return super().vector(pos, elem, what, depth, as_ref)

    def string(self, pos, what):
        self.lengths.add(pos)
        return super().string(pos, what)


def structure(data):
    r = _SiteRecorder(data)
    r.table(r.root(), "Model")
    return r


def patched(data, pos, fmt, value):
    out = bytearray(data)
    struct.pack_into(fmt, out, pos, value)
    return out


def test_seeds_run():
    for name, data in SEEDS.items():
        assert exercise(data) == "ran", name


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_truncations(name):
    data, c = SEEDS[name], Campaign()
    n = len(data)
    cuts = set(range(0, min(n, 48))) | set(np.linspace(0, n - 1, 60).astype(int).tolist()) | {n - 1, n - 4}
    for cut in sorted(cuts):
        c.run("%s[:%d]" % (name, cut), data[:cut])
    c.check(60)


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_random_bytes_and_bits(name):
    data, c = SEEDS[name], Campaign()
    rng = np.random.default_rng(sum(map(ord, name)))
    for k in range(120):
        out = bytearray(data)
        positions = rng.integers(0, len(data), rng.integers(1, 5))
        if k % 2:
            for p in positions:
                out[p] = int(rng.integers(0, 256))
            label = "bytes %s" % positions.tolist()
        else:
            for p in positions:
                out[p] ^= 1 << int(rng.integers(0, 8))
            label = "bits %s" % positions.tolist()
        c.run("%s %s" % (name, label), out)
    c.check(120)


HOSTILE_OFFSETS = (0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFC)
HOSTILE_LENGTHS = (0xFFFFFFFF, 0x7FFFFFFF, 0x3FFFFFFF, 0x10000, 0)
HOSTILE_SOFFSETS = (0, 4, -4, 0x7FFFFFFF, -0x80000000)


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_hostile_structure(name):
    """Offsets to nowhere or to themselves, vectors claiming huge lengths, tables whose vtable is
    the table itself, tables pointed at other tables (including the one holding the offset)."""
    data, c = SEEDS[name], Campaign()
    r = structure(data)
    rng = np.random.default_rng(len(data))
    tables = sorted(r.tables)
    offsets = sorted(r.offsets)
    for pos in rng.choice(offsets, min(len(offsets), 40), replace=False).tolist():
        what = r.offsets[pos]
        for value in HOSTILE_OFFSETS + (0, len(data) - pos):
            c.run("%s %s@%d = %#x" % (name, what, pos, value), patched(data, pos, "<I", value))
        # point at a random table, or at the table containing this very offset
        for target in (int(rng.choice(tables)), max([t for t in tables if t <= pos], default=0)):
            c.run("%s %s@%d -> table@%d" % (name, what, pos, target),
                  patched(data, pos, "<I", (target - pos) % 2 ** 32))
    lengths = sorted(r.lengths)
    for pos in rng.choice(lengths, min(len(lengths), 30), replace=False).tolist():
        (n,) = struct.unpack_from("<I", data, pos)
        for value in HOSTILE_LENGTHS + (n + 1, n * 2 + 7):
            c.run("%s length@%d = %#x" % (name, pos, value), patched(data, pos, "<I", value & 0xFFFFFFFF))
    for pos in rng.choice(tables, min(len(tables), 30), replace=False).tolist():
        for value in HOSTILE_SOFFSETS:
            c.run("%s soffset@%d = %d" % (name, pos, value), patched(data, pos, "<i", value))
        (soff,) = struct.unpack_from("<i", data, pos)
        vtable = pos - soff
        for field, value in ((0, 0xFFFF), (0, 2), (0, 5), (2, 0xFFFF), (2, 0), (4, 0xFFFF), (6, 0xFFFF)):
            if 0 <= vtable + field + 2 <= len(data):
                c.run("%s vtable@%d+%d = %#x" % (name, vtable, field, value),
                      patched(data, vtable + field, "<H", value))
    c.check(300)


def _shared_subgraphs(data, copies):
    """The seed with a subgraphs vector of ``copies`` references to its subgraph 0.

    FlatBuffers offsets only point forward, so a new root Model table (keeping the seed's
    operator codes and buffers) and the new vector go in front of the seed's bytes, which move
    as a block and so keep their relative offsets."""
    r = structure(data)
    field = {}
    for pos, what in r.offsets.items():   # in decoding order: a field comes before its elements
        field.setdefault(what, pos)

    def target(name):
        return field[name] + struct.unpack_from("<I", data, field[name])[0]
    subgraphs = target("Model.subgraphs")
    first = subgraphs + 4 + struct.unpack_from("<I", data, subgraphs + 4)[0]
    table, vtable, vec = 8, 28, 44
    base = -(-(vec + 4 + 4 * copies) // 16) * 16
    shift = base - 8
    out = bytearray(struct.pack("<I", table) + b"TFL3")
    # Model fields: version, operator_codes, subgraphs, buffers (description absent)
    out += struct.pack("<iIIII", table - vtable, 3, target("Model.operator_codes") + shift - (table + 8),
                       vec - (table + 12), target("Model.buffers") + shift - (table + 16))
    out += struct.pack("<7H", 14, 20, 4, 8, 12, 0, 16) + b"\0\0"
    out += struct.pack("<I", copies)
    out += b"".join(struct.pack("<I", first + shift - (vec + 4 + 4 * k)) for k in range(copies))
    out += b"\0" * (base - len(out)) + data[8:]
    return bytes(out)


@pytest.mark.parametrize("name", ["zoo", "small_converter_made"])
def test_shared_offsets_exhaust_the_work_budget(name):
    """Thousands of references to one large table: decoding them naively costs time quadratic in
    the file size; the reader's budget refuses the file quickly instead."""
    data = _shared_subgraphs(SEEDS[name], 20_000)
    t0 = time.perf_counter()
    with pytest.raises(numlite.ModelError, match="far more data than it contains"):
        numlite.Interpreter(model_content=data)
    assert time.perf_counter() - t0 < SLOW_CASE_SECONDS
    # a handful of shared references is legitimate and loads
    assert len(numlite.load_model(model_content=_shared_subgraphs(SEEDS[name], 3)).subgraphs) == 3


def test_not_a_model():
    c = Campaign()
    rng = np.random.default_rng(7)
    c.run("empty", b"")
    for n in (1, 4, 7, 8, 12, 64, 4096):
        c.run("%d random bytes" % n, rng.integers(0, 256, n, dtype=np.uint8).tobytes())
        c.run("%d random bytes with TFL3" % n, (rng.integers(0, 256, n, dtype=np.uint8).tobytes()[:4] + b"TFL3")
              + rng.integers(0, 256, n, dtype=np.uint8).tobytes())
    zoo = bytearray(SEEDS["zoo"])
    zoo[4:8] = b"TFL2"
    c.run("wrong file identifier", zoo)
    c.check(16)
    assert c.outcomes == {"rejected at load": c.outcomes["rejected at load"]}
    with pytest.raises(numlite.ModelError, match="file identifier"):
        numlite.Interpreter(model_content=bytes(zoo))
    with pytest.raises(ValueError, match="must be specified"):
        numlite.Interpreter(model_content=b"")


def test_files_that_cannot_be_read(tmp_path):
    with pytest.raises(ValueError, match="Could not open"):
        numlite.Interpreter(model_path=str(tmp_path / "missing.tflite"))
    with pytest.raises(ValueError, match="Could not open"):
        numlite.Interpreter(model_path=str(tmp_path))
    (tmp_path / "empty.tflite").write_bytes(b"")
    with pytest.raises(numlite.ModelError, match="empty"):
        numlite.Interpreter(model_path=str(tmp_path / "empty.tflite"))
    (tmp_path / "cut.tflite").write_bytes(SEEDS["small_converter_made"][:1000])
    with pytest.raises(numlite.ModelError):
        numlite.Interpreter(model_path=str(tmp_path / "cut.tflite"))


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(SEEDS)), edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True),
                                                                     st.integers(0, 255)), min_size=1, max_size=8))
def test_hypothesis_byte_edits(name, edits):
    data = bytearray(SEEDS[name])
    for where, value in edits:
        data[int(where * len(data))] = value
    c = Campaign()
    c.run("%s edits %s" % (name, edits), data)
    c.check(1)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(min_size=0, max_size=600), root=st.integers(0, 640))
def test_hypothesis_random_flatbuffers(body, root):
    c = Campaign()
    c.run("root %d body %r" % (root, body[:32]), struct.pack("<I", root) + b"TFL3" + body)
    c.check(1)


def test_memory_stays_bounded():
    """Mutants that declare enormous tensors must be refused, not allocated. The peak is traced
    for this test alone (tracemalloc sees NumPy's buffers, untouched zero pages included), so the
    check does not depend on the peak RSS earlier tests left behind."""
    c = Campaign()
    zoo = SEEDS["zoo"]
    r = structure(zoo)
    tracemalloc.start()
    try:
        for pos in sorted(p for p, what in r.offsets.items() if what == "Tensor.shape"):
            vec = pos + struct.unpack_from("<I", zoo, pos)[0]
            (n,) = struct.unpack_from("<I", zoo, vec)
            for k in range(n):
                for value in (1 << 20, 1 << 28, 0x7FFFFFFF, -1, -7):
                    c.run("Tensor.shape@%d[%d] = %d" % (vec, k, value), patched(zoo, vec + 4 + 4 * k, "<i", value))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    c.check(50)
    assert peak < 4 * ARENA_CAP, "peak allocation %d MiB" % (peak >> 20)
