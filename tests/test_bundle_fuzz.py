"""Fuzzing the .gptb importer: thousands of malformed files (mutated bytes of a valid file,
hand-made zips, random manifests). Each is either imported or refused with an
AssistantFileError; nothing else escapes, nothing hangs, and nothing is left behind.

GPTB_FUZZ_SCALE multiplies the number of examples (default 1).
"""

from __future__ import annotations

import io
import json
import os
import signal
import warnings
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_bundle import build, make_assistant, snapshot

from gptbuilder.errors import AssistantFileError
from gptbuilder.services import Services

SCALE = float(os.environ.get("GPTB_FUZZ_SCALE", "1"))
HANG_S = 30  # an example running this long is a hang, not slowness


def fuzz_settings(examples: int):
    return settings(
        max_examples=int(examples * SCALE),
        deadline=timedelta(seconds=10),  # a guard against runaway work, not a speed target
        database=None,  # nothing written into the repository
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


class Target:
    """A data folder that already holds the bundle's documents, so an import that succeeds
    reuses their passages instead of starting a reader process (keeps the fuzzing fast)."""

    def __init__(self, tmp: Path) -> None:
        self.s: Services = build(tmp, "target")
        make_assistant(self.s, tmp)
        self.baseline = snapshot(self.s)
        self.path = tmp / "fuzzed.gptb"
        self.imported = 0
        self.refused = 0

    def attempt(self, data: bytes) -> None:
        self.path.write_bytes(data)

        def hang(_signum, _frame):
            raise TimeoutError(f"import still running after {HANG_S} s")

        old = signal.signal(signal.SIGALRM, hang)
        signal.alarm(HANG_S)
        try:
            result = self.s.bundles.import_file(self.path)
        except AssistantFileError as err:
            assert str(err), "every refusal says why"
            self.refused += 1
        else:
            self.imported += 1
            self.s.library.delete_assistant(result.assistant.id)
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
        assert snapshot(self.s) == self.baseline, "nothing is left behind"


@pytest.fixture
def target(tmp_path):
    t = Target(tmp_path)
    yield t
    print(f"\n{t.imported} imported, {t.refused} refused")
    t.s.close()


@pytest.fixture
def valid(target, tmp_path) -> dict[str, bytes]:
    """A valid bundle, deflated and stored, and its entries."""
    s = target.s
    [a] = s.repo.list_assistants()
    path = s.bundles.export(a.id, tmp_path / "valid")
    with zipfile.ZipFile(path) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    out = {"deflated": path.read_bytes()}
    p = tmp_path / "stored.gptb"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_STORED) as z:
        for n, d in entries.items():
            z.writestr(n, d)
    out["stored"] = p.read_bytes()
    out["entries"] = json.dumps({n: d.decode("latin-1") for n, d in entries.items()}).encode()
    return out


def header_offsets(data: bytes) -> list[int]:
    """Where zip headers start: mutating near them reaches the parser's trickier paths."""
    out = []
    for sig in (b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"):
        pos = data.find(sig)
        while pos != -1:
            out.append(pos)
            pos = data.find(sig, pos + 1)
    return out or [0]


@st.composite
def mutations(draw, data: bytes) -> bytes:
    out = bytearray(data)
    heads = header_offsets(data)
    for _ in range(draw(st.integers(1, 6))):
        if not out:
            break
        if draw(st.booleans()):  # near a header
            pos = min(draw(st.sampled_from(heads)) + draw(st.integers(0, 46)), len(out) - 1)
        else:
            pos = draw(st.integers(0, len(out) - 1))
        op = draw(st.sampled_from(["set", "flip", "insert", "delete", "truncate", "int"]))
        if op == "set":
            out[pos] = draw(st.integers(0, 255))
        elif op == "flip":
            out[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            out[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del out[pos : pos + draw(st.integers(1, 16))]
        elif op == "truncate":
            del out[pos:]
        else:  # a size, count or offset field set to an extreme
            value = draw(st.sampled_from([0, 1, 0xFFFF, 0xFFFFFFFF, 0x7FFFFFFF, len(out)]))
            width = draw(st.sampled_from([2, 4]))
            out[pos : pos + width] = (value & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
    return bytes(out)


@pytest.mark.parametrize("packing", ["deflated", "stored"])
def test_mutated_bytes(target, valid, packing):
    @fuzz_settings(1000)
    @given(data=mutations(valid[packing]))
    def run(data: bytes) -> None:
        target.attempt(data)

    run()


# -- hand-made zips: odd names, modes, flags and sizes ----------------------------------------

NAMES = st.one_of(
    st.sampled_from(
        [
            "manifest.json",
            "index/chunks.json",
            "index/vectors.npy",
            "documents/",
            "index/",
            "../manifest.json",
            "/manifest.json",
            "C:\\manifest.json",
            "documents/../manifest.json",
            "manifest.json\x00.txt",
            "./manifest.json",
            "documents//x",
        ]
    ),
    st.text(max_size=40),
)


@st.composite
def hand_made_zips(draw, entries: dict[str, bytes]) -> bytes:
    items = list(entries.items())
    chosen = draw(st.lists(st.sampled_from(items), max_size=len(items) + 2)) if items else []
    extra = draw(st.lists(st.tuples(NAMES, st.binary(max_size=64)), max_size=3))
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(buf, "w") as z:
            for name, data in chosen + extra:
                zi = zipfile.ZipInfo(name)
                zi.external_attr = (
                    draw(st.sampled_from([0, 0o100644, 0o120777, 0o40755, 0o20644])) << 16
                )
                zi.compress_type = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
                try:
                    z.writestr(zi, data)
                except (ValueError, UnicodeEncodeError):
                    pass  # a name zipfile itself will not write
    return buf.getvalue()


def test_hand_made_zips(target, valid):
    entries = {n: d.encode("latin-1") for n, d in json.loads(valid["entries"]).items()}

    @fuzz_settings(500)
    @given(data=hand_made_zips(entries))
    def run(data: bytes) -> None:
        target.attempt(data)

    run()


# -- random manifests beside valid documents and index ----------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def manifests(draw, manifest: dict) -> bytes:
    kind = draw(st.sampled_from(["random", "replace", "delete", "raw"]))
    if kind == "random":
        return json.dumps(draw(JSON)).encode()
    if kind == "raw":
        return draw(st.binary(max_size=200))
    m = json.loads(json.dumps(manifest))
    for _ in range(draw(st.integers(1, 3))):
        # walk to a random place in the manifest and change or remove it
        node, key = m, None
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                key = None
                break
            key = draw(st.sampled_from(keys))
            child = node[key]
            if not isinstance(child, dict | list) or draw(st.booleans()):
                break
            node = child
        if key is None:
            continue
        if kind == "delete":
            del node[key]
        else:
            node[key] = draw(JSON)
    return json.dumps(m).encode()


def test_random_manifests(target, valid):
    entries = {n: d.encode("latin-1") for n, d in json.loads(valid["entries"]).items()}
    manifest = json.loads(entries["manifest.json"])

    @fuzz_settings(1000)
    @given(text=manifests(manifest))
    def run(text: bytes) -> None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in {**entries, "manifest.json": text}.items():
                z.writestr(name, data)
        target.attempt(buf.getvalue())

    run()
