"""Persistence of the live bot: the SQLite state file (`StateStore`)."""

from mmfast.store.state import StateStore, default_state_path, utc_day

#: The first name of `StateStore`, still used by the live loop.
Checkpoint = StateStore

__all__ = ["Checkpoint", "StateStore", "default_state_path", "utc_day"]
