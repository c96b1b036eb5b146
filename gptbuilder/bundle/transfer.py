"""An assistant as one .gptb file: export it, and import it back as a new assistant.

Import treats the file as hostile (see ``archive``). Documents go through the same path as an
upload (``Library.add_file``: read in a child process, chunked here). The file's index only
spares the embedding, and only when it was made by the same embedding model and chunk
settings, every checksum verifies, its chunks are exactly those this app cuts from the
documents, and a random sample of its vectors matches what the model gives here.

All or nothing: the assistant stays hidden while it is imported, and any failure removes it
with its documents, files and index (a process stopped mid-import is cleaned at start-up).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import random
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import gptbuilder
from gptbuilder.backends.embedder import Embedder
from gptbuilder.backends.models import ModelChoice
from gptbuilder.bundle.archive import (
    CHUNKS,
    DAMAGED,
    MANIFEST,
    MAX_MANIFEST,
    VECTORS,
    BundleArchive,
    BundleLimits,
    shown,
    vectors_from_npy,
    vectors_to_npy,
)
from gptbuilder.bundle.manifest import (
    FORMAT,
    SUFFIX,
    VERSION,
    ChunkRecord,
    DocumentPart,
    Manifest,
    parse_chunks,
    parse_manifest,
)
from gptbuilder.db import Repository
from gptbuilder.errors import AssistantFileError, GPTBuilderError, InvalidInput
from gptbuilder.ingest.chunk import CHUNKER_VERSION
from gptbuilder.library import Library, Prebuilt, Progress
from gptbuilder.personas.definition import make_draft, unique_name
from gptbuilder.types import Assistant, AssistantDraft, ChunkDraft

log = logging.getLogger(__name__)

SPOT_CHECKS = 8  # vectors re-embedded per document to check an imported index
SPOT_DISTANCE = 0.2  # max L2 distance of unit vectors: cosine >= 0.98


def _no_progress(_fraction: float, _what: str) -> None:
    pass


@dataclass(frozen=True)
class ImportResult:
    assistant: Assistant
    documents: int
    vectors_imported: int  # documents whose vectors came from the file's index
    already_indexed: int  # documents this app had indexed before: nothing to embed
    notes: tuple[str, ...]  # plain-language remarks (index not used, and why)


@dataclass(frozen=True)
class _Index:
    """The file's index, grouped by document sha256: chunk records and their vectors."""

    by_document: dict[str, tuple[list[ChunkRecord], np.ndarray]]


def file_stem(name: str) -> str:
    return re.sub(r"[^\w\-]+", "-", name).strip("-")[:60] or "assistant"


class AssistantBundles:
    def __init__(
        self,
        repo: Repository,
        library: Library,
        embedder: Embedder,
        chunk_size: int,
        chunk_overlap: int,
        work_dir: Path,  # for unpacked documents while importing; emptied after each import
        limits: BundleLimits,
    ) -> None:
        self._repo = repo
        self._library = library
        self._embedder = embedder
        self._chunk_size = chunk_size
        self._chunk_overlap = chunk_overlap
        self._work_dir = work_dir
        self.limits = limits

    # -- export --------------------------------------------------------------------------------

    def export(self, assistant_id: int, folder: Path, include_index: bool = True) -> Path:
        """Write ``<name>.gptb`` into ``folder``; returns its path."""
        a = self._repo.get_assistant(assistant_id)
        docs = [d for d in self._repo.list_documents(a.id) if d.status == "ready"]
        records: list[dict[str, Any]] = []
        vectors: list[np.ndarray] = []
        if include_index:
            for d in docs:
                key, chunks, vecs = self._repo.passages.document_chunks(d.id)
                if key != self._library.chunking or not chunks:
                    continue  # made with older settings: the importer embeds it again
                records.extend({"document": d.sha256, **dataclasses.asdict(c)} for c in chunks)
                vectors.append(vecs)
        config: dict[str, Any] = {
            "name": a.name,
            "description": a.description,
            "instructions": a.instructions,
            "starters": list(a.starters),
            "temperature": a.temperature,
            "answer_style": a.answer_style,
        }
        if a.model:  # the assistant's own model, without any API key
            try:
                config["model"] = dataclasses.replace(
                    ModelChoice.parse(a.model), api_key=""
                ).dumps()
            except InvalidInput:
                pass
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "app_version": gptbuilder.__version__,
            "assistant": config,
            "embedding": {"model_id": self._embedder.model_id, "dim": self._embedder.dim},
            "chunking": {
                "size": self._chunk_size,
                "overlap": self._chunk_overlap,
                "chunker_version": CHUNKER_VERSION,
            },
            "documents": [
                {
                    "sha256": d.sha256,
                    "name": d.filename,
                    "media_type": d.media_type,
                    "size": d.size_bytes,
                }
                for d in docs
            ],
            "index": None,
        }
        chunks_json = npy = b""
        if records:
            chunks_json = json.dumps(records, ensure_ascii=False).encode("utf-8")
            npy = vectors_to_npy(np.vstack(vectors))
            manifest["index"] = {
                "chunks_sha256": hashlib.sha256(chunks_json).hexdigest(),
                "vectors_sha256": hashlib.sha256(npy).hexdigest(),
                "count": len(records),
            }
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{file_stem(a.name)}{SUFFIX}"
        tmp = path.with_name(path.name + ".tmp")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
            for d in docs:
                z.write(self._library.stored_file(d.sha256), f"documents/{d.sha256}")
            if records:
                z.writestr(CHUNKS, chunks_json)
                z.writestr(VECTORS, npy)
        os.replace(tmp, path)
        log.info("exported assistant %d (%d documents, %d chunks)", a.id, len(docs), len(records))
        return path

    # -- import --------------------------------------------------------------------------------

    def import_file(self, path: Path, progress: Progress = _no_progress) -> ImportResult:
        """Import a .gptb file as a new assistant ("Name (2)" if the name is taken).

        Raises AssistantFileError, with a reason for the user, on any problem; then nothing
        of the file is left behind."""
        self._work_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="import-", dir=self._work_dir))
        created: int | None = None
        try:
            progress(0.0, "Checking the file")
            notes: list[str] = []
            with BundleArchive(path, self.limits) as archive:
                if MANIFEST not in archive.entries:
                    raise AssistantFileError(
                        "This is not a GPT Builder assistant file: it has no manifest."
                    )
                manifest = parse_manifest(archive.read(MANIFEST, MAX_MANIFEST))
                self._check_contents(archive, manifest)
                files = self._extract(archive, manifest, work, progress)
                index = self._read_index(archive, manifest, notes)
            draft = self._draft(manifest, notes)
            a = self._repo.create_assistant(draft, importing=True)
            created = a.id
            imported = known = 0
            n = len(files)
            for i, (doc, file) in enumerate(files):

                def step(f: float, what: str, i: int = i) -> None:
                    progress(0.1 + 0.88 * (i + f) / n, f"Document {i + 1}/{n}: {what}")

                entry = index.by_document.get(doc.sha256)
                prebuilt = self._prebuilt(doc, entry, notes) if entry else None
                result = self._library.add_file(a.id, file, doc.name, step, prebuilt)
                imported += int(result.vectors_imported)
                known += int(result.reused)
            a = self._repo.finish_import(a.id)
            progress(1.0, f"Imported “{a.name}”")
            log.info("imported assistant %d from %s (%d documents)", a.id, path.name, n)
            return ImportResult(a, n, imported, known, tuple(notes))
        except BaseException as err:
            if created is not None:
                self._library.delete_assistant(created)
            if isinstance(err, AssistantFileError):
                raise
            if isinstance(err, GPTBuilderError):
                raise AssistantFileError(
                    f"This assistant file could not be imported: {err}"
                ) from err
            if isinstance(err, Exception):
                log.exception("import of %s failed", path.name)
                raise AssistantFileError(
                    f"This assistant file could not be imported ({type(err).__name__}); "
                    "it may be damaged."
                ) from err
            raise
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _check_contents(self, archive: BundleArchive, manifest: Manifest) -> None:
        """The archive holds exactly what the manifest lists."""
        if len(manifest.documents) > self.limits.max_documents:
            raise AssistantFileError(
                f"This assistant file lists {len(manifest.documents)} documents; at most "
                f"{self.limits.max_documents} are accepted (setting GPTB_BUNDLE_MAX_FILES)."
            )
        listed = {d.sha256 for d in manifest.documents}
        for d in manifest.documents:
            if d.sha256 not in archive.documents():
                raise AssistantFileError(
                    f"This assistant file is incomplete: the document “{shown(d.name)}” is "
                    "missing from it."
                )
        if archive.documents() - listed:
            raise AssistantFileError(
                f"{DAMAGED}: it holds a document that its manifest does not list."
            )
        present = {CHUNKS, VECTORS} & set(archive.entries)
        if manifest.index is not None and len(present) < 2:
            raise AssistantFileError(
                "This assistant file is incomplete: its search index is missing."
            )
        if manifest.index is None and present:
            raise AssistantFileError(
                f"{DAMAGED}: it holds a search index that its manifest does not list."
            )

    def _extract(
        self, archive: BundleArchive, manifest: Manifest, work: Path, progress: Progress
    ) -> list[tuple[DocumentPart, Path]]:
        """Unpack each document under a name of ours and verify its checksum."""
        out = []
        n = max(len(manifest.documents), 1)
        for i, doc in enumerate(manifest.documents):
            progress(0.1 * i / n, f"Unpacking {doc.name}")
            target = work / f"document-{i}"
            sha = archive.extract(f"documents/{doc.sha256}", target, self.limits.max_document_bytes)
            if sha != doc.sha256:
                raise AssistantFileError(
                    f"{DAMAGED}: the document “{shown(doc.name)}” does not match its checksum "
                    "(it was changed or corrupted)."
                )
            out.append((doc, target))
        return out

    def _read_index(self, archive: BundleArchive, manifest: Manifest, notes: list[str]) -> _Index:
        if manifest.index is None:
            if manifest.documents:
                notes.append("The file holds no search index; the documents were indexed here.")
            return _Index({})
        e, c = manifest.embedding, manifest.chunking
        here = (self._embedder.model_id, self._embedder.dim, self._chunk_size, self._chunk_overlap)
        if (e.model_id, e.dim, c.size, c.overlap) != here or c.chunker_version != CHUNKER_VERSION:
            notes.append(
                f"The file's search index was made with other settings (embedding model "
                f"“{shown(e.model_id)}”, passages of {c.size} characters with {c.overlap} "
                "overlap); the documents were indexed again here."
            )
            return _Index({})
        cap = self.limits.max_unpacked_bytes
        chunks_json = archive.read(CHUNKS, cap)
        if hashlib.sha256(chunks_json).hexdigest() != manifest.index.chunks_sha256:
            raise AssistantFileError(f"{DAMAGED}: its search index does not match its checksum.")
        npy = archive.read(VECTORS, cap)
        if hashlib.sha256(npy).hexdigest() != manifest.index.vectors_sha256:
            raise AssistantFileError(f"{DAMAGED}: its search vectors do not match their checksum.")
        records = parse_chunks(chunks_json)
        if len(records) != manifest.index.count:
            raise AssistantFileError(f"{DAMAGED}: its search index is incomplete.")
        vectors = vectors_from_npy(npy, len(records), self._embedder.dim)  # (n, dim) float32
        norms = np.linalg.norm(vectors, axis=1)
        if len(norms) and not np.all((np.abs(norms - 1.0) < 1e-3) | (norms == 0.0)):
            raise AssistantFileError(f"{DAMAGED}: its search vectors are not normalised.")
        listed = {d.sha256 for d in manifest.documents}
        rows: dict[str, list[int]] = {}
        for i, r in enumerate(records):
            if r.document not in listed:
                raise AssistantFileError(f"{DAMAGED}: its search index names an unknown document.")
            rows.setdefault(r.document, []).append(i)
        return _Index({sha: ([records[i] for i in ix], vectors[ix]) for sha, ix in rows.items()})

    def _prebuilt(
        self, doc: DocumentPart, entry: tuple[list[ChunkRecord], np.ndarray], notes: list[str]
    ) -> Prebuilt:
        records, vectors = entry

        def use(chunks: list[ChunkDraft]) -> np.ndarray | None:
            mine = [dataclasses.astuple(c) for c in chunks]
            theirs = [
                (r.ordinal, r.page, r.char_start, r.char_end, r.text, r.heading) for r in records
            ]
            if mine != theirs:
                notes.append(
                    f"“{shown(doc.name)}” was read differently here than where it was "
                    "exported; its passages were embedded again."
                )
                return None
            picks = random.SystemRandom().sample(range(len(chunks)), min(len(chunks), SPOT_CHECKS))
            fresh = self._embedder.embed([chunks[i].text for i in picks])
            if np.any(np.linalg.norm(fresh - vectors[picks], axis=1) > SPOT_DISTANCE):
                notes.append(
                    f"The imported search vectors of “{shown(doc.name)}” do not match this "
                    "app's embedding model; its passages were embedded again."
                )
                return None
            return vectors

        return use

    def _draft(self, manifest: Manifest, notes: list[str]) -> AssistantDraft:
        c = manifest.assistant
        try:
            draft = make_draft(
                c.name,
                c.description,
                c.instructions,
                c.starters,
                c.temperature,
                answer_style=c.answer_style,
            )
        except InvalidInput as err:
            raise AssistantFileError(f"{DAMAGED}: {err}") from err
        if c.model:
            try:
                choice = ModelChoice.parse(c.model)
            except InvalidInput:
                choice = None
                notes.append("The file's model setting could not be read; the default is used.")
            if choice is not None and choice.kind == "server":
                # A shared file must not be able to send this user's questions and documents
                # to a server of its choosing: the user sets servers up themselves.
                notes.append(
                    f"The file asks for the model server {shown(choice.base_url)}; for your "
                    "safety it was not set up. Choose it in Configure if you trust it."
                )
            elif choice is not None:
                draft = dataclasses.replace(draft, model=choice.dumps())
        name = unique_name(draft.name, self._repo.assistant_names())
        return dataclasses.replace(draft, name=name)
