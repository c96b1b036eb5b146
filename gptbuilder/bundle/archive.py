"""Reading a .gptb file (a zip) that may have been made to do harm.

Nothing in the archive is trusted: not its names (they are never used as paths; only a fixed
list of names is accepted), not the sizes its headers declare (every read is counted and cut
off at a limit), not its file types (links and special files are refused). Nothing in it is
executed or unpickled; vectors are read from a plain .npy whose header is checked first.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from gptbuilder.errors import AssistantFileError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
CHUNKS = "index/chunks.json"
VECTORS = "index/vectors.npy"
FOLDERS = ("documents/", "index/")
_DOCUMENT = re.compile(r"documents/([0-9a-f]{64})")
_DRIVE = re.compile(r"^[A-Za-z]:")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a first entry, or an empty archive
RATIO_FLOOR = 1 << 20  # entries smaller than this (bytes, uncompressed) skip the ratio check
DIRECTORY_BYTES_PER_ENTRY = 1024  # generous: our entries take about 150 bytes each
_END = b"PK\x05\x06"  # end of central directory record
_END64_LOCATOR = b"PK\x06\x07"
MAX_MANIFEST = 1 << 20
_BLOCK = 1 << 16

# What a broken or hostile zip can make zipfile/zlib raise while reading.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    struct.error,
    OverflowError,
    UnicodeDecodeError,
    LookupError,
)

DAMAGED = "This assistant file is damaged"


@dataclass(frozen=True)
class BundleLimits:
    max_bytes: int = 300 << 20  # the .gptb file itself
    max_documents: int = 100
    max_document_bytes: int = 100 << 20  # one document, unpacked
    max_unpacked_bytes: int = 1 << 30  # everything in the file, unpacked
    max_ratio: int = 100  # unpacked / packed size of one entry (zip bombs)


def shown(name: str, limit: int = 60) -> str:
    """A name from the file, fit to quote in a message: printable and short."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in name)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def looks_like_zip(head: bytes) -> bool:
    return head[:4] in _ZIP_MAGIC


def _check_name(info: zipfile.ZipInfo) -> None:
    raw = info.orig_filename
    name = info.filename
    unsafe = (
        "\x00" in raw
        or "\\" in raw
        or raw.startswith("/")
        or _DRIVE.match(raw) is not None
        or any(part in ("..", ".") for part in raw.split("/"))
    )
    if unsafe:
        raise AssistantFileError(
            f"This assistant file is unsafe: the item “{shown(name)}” points outside its own "
            "folder. It was not imported."
        )


def _check_type(info: zipfile.ZipInfo) -> None:
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if stat.S_ISLNK(mode):
        raise AssistantFileError(
            f"This assistant file is unsafe: “{shown(info.filename)}” is a link to another "
            "file. It was not imported."
        )
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise AssistantFileError(
            f"This assistant file is unsafe: “{shown(info.filename)}” is not an ordinary file."
        )
    if info.flag_bits & 0x1:
        raise AssistantFileError("This assistant file is password-protected; it cannot be read.")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise AssistantFileError(f"{DAMAGED}: it uses an unknown kind of compression.")


class BundleArchive:
    """The entries of a .gptb file, checked when opened; every read is size-capped."""

    def __init__(self, path: Path, limits: BundleLimits) -> None:
        self._limits = limits
        self._read_total = 0  # bytes unpacked so far, all entries together
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise AssistantFileError(
                f"This assistant file is {size / 1e6:.0f} MB; the limit is "
                f"{limits.max_bytes / 1e6:.0f} MB (setting GPTB_BUNDLE_MAX_MB)."
            )
        self._fp: BinaryIO = path.open("rb")
        try:
            if not looks_like_zip(self._fp.read(4)):
                raise AssistantFileError(
                    "This is not a GPT Builder assistant file (.gptb). "
                    "Choose a file exported from GPT Builder."
                )
            self._check_directory_size(size)
            self._fp.seek(0)
            try:
                self._zip = zipfile.ZipFile(self._fp)
                infos = self._zip.infolist()
            except ZIP_ERRORS as err:
                raise AssistantFileError(f"{DAMAGED}: it is not a readable zip archive.") from err
            self.entries = self._check_entries(infos)
        except BaseException:
            self._fp.close()
            raise

    def _check_directory_size(self, size: int) -> None:
        """Refuse a central directory too big for the entries we accept, before zipfile
        parses it: millions of tiny entries would otherwise take memory and time."""
        tail_len = min(size, (1 << 16) + 22)  # the end record and an archive comment
        self._fp.seek(size - tail_len)
        tail = self._fp.read(tail_len)
        at = len(tail) - 22 if tail[-22:-18] == _END else tail.rfind(_END)
        if at < 0 or len(tail) - at < 22:
            return  # no end record: zipfile reports the archive as unreadable
        if at >= 20 and tail[at - 20 : at - 16] == _END64_LOCATOR:
            raise AssistantFileError(f"{DAMAGED}: it uses a zip layout GPT Builder never writes.")
        (directory_bytes,) = struct.unpack("<I", tail[at + 12 : at + 16])
        most = (self._limits.max_documents + 5) * DIRECTORY_BYTES_PER_ENTRY
        if directory_bytes > most:
            raise AssistantFileError(
                "This assistant file lists far more items than it may hold; at most "
                f"{self._limits.max_documents} documents are accepted "
                "(setting GPTB_BUNDLE_MAX_FILES)."
            )

    def _check_entries(self, infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
        limits = self._limits
        # manifest + chunks + vectors + two folder entries, beside the documents
        if len(infos) > limits.max_documents + 5:
            raise AssistantFileError(
                f"This assistant file holds {len(infos)} items; at most "
                f"{limits.max_documents} documents are accepted (setting GPTB_BUNDLE_MAX_FILES)."
            )
        entries: dict[str, zipfile.ZipInfo] = {}
        declared = 0
        for info in infos:
            _check_name(info)
            _check_type(info)
            name = info.filename
            if name in entries:
                raise AssistantFileError(
                    f"{DAMAGED}: it holds “{shown(name)}” twice, so it is unclear which to use."
                )
            if name.endswith("/") or stat.S_ISDIR(info.external_attr >> 16):
                if name not in FOLDERS or info.file_size:
                    raise AssistantFileError(
                        f"This assistant file holds an unexpected folder “{shown(name)}”; "
                        "it may not come from GPT Builder."
                    )
                continue
            if name not in (MANIFEST, CHUNKS, VECTORS) and not _DOCUMENT.fullmatch(name):
                raise AssistantFileError(
                    f"This assistant file holds an unexpected item “{shown(name)}”; "
                    "it may not come from GPT Builder."
                )
            if name.startswith("documents/") and info.file_size > limits.max_document_bytes:
                raise AssistantFileError(
                    f"A document in this assistant file is {info.file_size / 1e6:.0f} MB; "
                    f"the limit is {limits.max_document_bytes / 1e6:.0f} MB "
                    "(setting GPTB_MAX_UPLOAD_MB)."
                )
            if info.file_size > RATIO_FLOOR and (
                info.file_size > limits.max_ratio * max(info.compress_size, 1)
            ):
                raise _bomb()
            declared += info.file_size
            if declared > limits.max_unpacked_bytes:
                raise _too_big(limits)
            entries[name] = info
        return entries

    def documents(self) -> set[str]:
        """sha256 of every document entry."""
        out = set()
        for name in self.entries:
            m = _DOCUMENT.fullmatch(name)
            if m:
                out.add(m.group(1))
        return out

    def _stream(self, name: str, cap: int) -> Iterator[bytes]:
        """The entry's bytes in blocks. Stops with an error past ``cap``, past the size its
        header declares, or past the limit for the whole file: headers can lie."""
        info = self.entries[name]
        limit = min(cap, info.file_size)
        got = 0
        try:
            with self._zip.open(info) as f:
                while True:
                    block = f.read(_BLOCK)
                    if not block:
                        break
                    got += len(block)
                    self._read_total += len(block)
                    if self._read_total > self._limits.max_unpacked_bytes:
                        raise _too_big(self._limits)
                    if got > limit:
                        raise _bomb() if got > info.file_size else _entry_too_big(name)
                    if got > RATIO_FLOOR and got > self._limits.max_ratio * max(
                        info.compress_size, 1
                    ):
                        raise _bomb()
                    yield block
        except ZIP_ERRORS as err:
            raise AssistantFileError(
                f"{DAMAGED}: “{shown(name)}” cannot be unpacked ({type(err).__name__})."
            ) from err
        if got != info.file_size:
            raise AssistantFileError(f"{DAMAGED}: “{shown(name)}” is cut short.")

    def read(self, name: str, cap: int) -> bytes:
        return b"".join(self._stream(name, cap))

    def extract(self, name: str, target: Path, cap: int) -> str:
        """Write the entry to ``target`` (a path of ours, never from the archive); returns the
        sha256 of what was written."""
        h = hashlib.sha256()
        with target.open("wb") as out:
            for block in self._stream(name, cap):
                h.update(block)
                out.write(block)
        return h.hexdigest()

    def close(self) -> None:
        try:
            self._zip.close()
        finally:
            self._fp.close()

    def __enter__(self) -> BundleArchive:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _bomb() -> AssistantFileError:
    return AssistantFileError(
        "This assistant file is unsafe: it unpacks to far more than its size (a “zip bomb”). "
        "It was not imported."
    )


def _too_big(limits: BundleLimits) -> AssistantFileError:
    return AssistantFileError(
        f"This assistant file unpacks to more than {limits.max_unpacked_bytes / 1e6:.0f} MB "
        "(setting GPTB_BUNDLE_MAX_UNPACKED_MB)."
    )


def _entry_too_big(name: str) -> AssistantFileError:
    return AssistantFileError(f"This assistant file is unsafe: “{shown(name)}” is too large.")


# -- vectors ----------------------------------------------------------------------------------


def vectors_to_npy(vectors: np.ndarray) -> bytes:
    """(n, dim) float32 as .npy bytes (little-endian, C order, no pickle)."""
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(vectors, dtype="<f4"), allow_pickle=False)
    return buf.getvalue()


def vectors_from_npy(data: bytes, rows: int, dim: int) -> np.ndarray:
    """Parse .npy bytes that must hold exactly (rows, dim) little-endian float32, finite.

    The header is read and checked before any array is made: ``np.load`` would allocate
    whatever shape the header claims."""
    from numpy.lib import format as npy

    bad = AssistantFileError(f"{DAMAGED}: its search index is not a valid vector file.")
    buf = io.BytesIO(data)
    try:
        version = npy.read_magic(buf)
        if version == (1, 0):
            shape, fortran, dtype = npy.read_array_header_1_0(buf)
        elif version == (2, 0):
            shape, fortran, dtype = npy.read_array_header_2_0(buf)
        else:
            raise bad
    except AssistantFileError:
        raise
    except Exception as err:  # the header is a Python literal that failed to parse
        raise bad from err
    if dtype != np.dtype("<f4") or fortran or tuple(shape) != (rows, dim):
        raise bad
    offset = buf.tell()
    if len(data) - offset != rows * dim * 4:
        raise bad
    array = np.frombuffer(data, dtype="<f4", count=rows * dim, offset=offset)
    array = array.reshape(rows, dim).astype(np.float32)
    if not np.all(np.isfinite(array)):
        raise bad
    return array
