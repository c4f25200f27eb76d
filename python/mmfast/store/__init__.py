"""Persistence of the live bot (SPEC 10): the SQLite checkpoint."""

from mmfast.store.checkpoint import Checkpoint

__all__ = ["Checkpoint"]
