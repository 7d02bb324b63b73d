"""Helpers for the rule tests: a healthy store to break, and the findings of one code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import TEMP, TOPP, store_spec

from batchcheck.config import Settings
from batchcheck.engine import run_check
from batchcheck.findings import Finding, Selection
from batchcheck.scan import ScanOptions, scan


def healthy() -> dict[str, Any]:
    """Three experiments, two batches, one reuse: every rule must stay silent on it."""
    return store_spec(
        [
            ("Copa", "temp05_topp10_gpt4o", TEMP, 0.5, 1.0),
            ("Copa", "temp07_topp09_gpt4o", TEMP, 0.7, 0.9),
            ("CB", "temp07_topp10_gpt4o", TOPP, 0.7, 1.0),
        ],
        [
            (TEMP, "Copa", "temp05_topp10_gpt4o"),
            (TEMP, "Copa", "temp07_topp09_gpt4o"),
            (TOPP, "Copa", "temp07_topp09_gpt4o"),
            (TOPP, "CB", "temp07_topp10_gpt4o"),
        ],
    )


def run(
    root: Path, code: str, options: ScanOptions | None = None, **settings: Any
) -> list[Finding]:
    """The findings of ``code`` (a code or prefix) on a fresh scan of ``root``."""
    config = Settings(root=root, root_source="test", **settings)
    opts = options or ScanOptions.from_settings(config)
    store = scan(root, opts)
    result = run_check(store, config, Selection((code,)), no_data=not opts.read.data)
    return list(result.findings)


def found(root: Path, code: str, **kwargs: Any) -> set[tuple[str, str]]:
    """``{(code, path relative to root)}`` of the findings of ``code``."""
    return {(f.code, f.path.relative_to(root).as_posix()) for f in run(root, code, **kwargs)}


def messages(root: Path, code: str, **kwargs: Any) -> dict[str, str]:
    """Path relative to root -> message (one finding per path expected)."""
    return {f.path.relative_to(root).as_posix(): f.message for f in run(root, code, **kwargs)}
