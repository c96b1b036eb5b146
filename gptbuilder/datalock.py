"""One app per data folder: two processes writing the same SQLite file and FAISS indexes would
undo each other's work. The app takes an exclusive lock on the folder at start (``filelock``:
an OS lock, released by the OS if the process dies, so a crash never leaves the folder locked)
and a second app on the same folder is told so in plain words and exits."""

from __future__ import annotations

import json
import os
from pathlib import Path

from filelock import FileLock, Timeout

from gptbuilder.errors import GPTBuilderError

LOCK_NAME = ".gptbuilder.lock"
INFO_NAME = ".gptbuilder.lock.json"  # who holds the lock, for the message


class DataFolderInUse(GPTBuilderError):
    """Another GPT Builder holds the data folder."""


def lock_data_folder(data_dir: Path, url: str = "") -> FileLock:
    """Hold ``data_dir`` for this process (until it exits or the lock is released)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(data_dir / LOCK_NAME, timeout=0)
    info = data_dir / INFO_NAME
    try:
        lock.acquire()
    except Timeout:
        holder = ""
        try:
            held = json.loads(info.read_text(encoding="utf-8"))
            holder = f" (process {int(held['pid'])}" + (f", {held['url']}" if held["url"] else "")
            holder += ")"
        except (OSError, ValueError, KeyError, TypeError):
            pass
        raise DataFolderInUse(
            f"GPT Builder is already running on the data folder {data_dir}{holder}. Open that "
            "one in your browser, or stop it first. To run a second one, give it another data "
            "folder with GPTB_DATA_DIR."
        ) from None
    info.write_text(json.dumps({"pid": os.getpid(), "url": url}), encoding="utf-8")
    return lock
