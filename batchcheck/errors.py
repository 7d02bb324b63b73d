"""The two ways a command ends early on purpose; anything else escaping ``main`` is a bug."""

from __future__ import annotations


class UsageError(Exception):
    """Bad arguments, bad configuration or an unreadable root: exit 2."""


class NotFound(Exception):
    """A lookup found nothing (unknown batch, dataset or a path outside the store): exit 1."""
