"""The seed's emoji markers, and plain ASCII stand-ins for terminals that cannot show them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO


@dataclass(frozen=True)
class Symbols:
    """One marker per meaning, as the seed's legend lists them."""

    batch: str
    dataset: str
    experiment: str
    shared: str
    folder: str
    reuse: str
    ok: str
    warn: str
    info: str
    error: str
    new: str  # a configuration still to generate (plan); not in the seed's legend


EMOJI = Symbols(
    batch="📦",
    dataset="📊",
    experiment="🔧",
    shared="📦",
    folder="📁",
    reuse="⚡",
    ok="✅",
    warn="⚠️ ",
    info="💾",
    error="❌",
    new="🆕",
)
ASCII = Symbols(
    batch="[B]",
    dataset="[D]",
    experiment="[E]",
    shared="[S]",
    folder="[+]",
    reuse="[R]",
    ok="[OK]",
    warn="[!]",
    info="[i]",
    error="[X]",
    new="[N]",
)


def pick(out: TextIO, no_emoji: bool) -> Symbols:
    """Emoji unless asked not to or ``out`` cannot encode them."""
    if no_emoji:
        return ASCII
    encoding = getattr(out, "encoding", None) or "ascii"
    try:
        "".join(EMOJI.__dict__.values()).encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return ASCII
    return EMOJI
