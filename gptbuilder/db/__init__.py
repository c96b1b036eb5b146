"""Database access. Everything outside this package sees our own types, never ORM rows."""

from gptbuilder.db.repository import Repository

__all__ = ["Repository"]
