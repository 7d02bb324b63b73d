"""A small DevTools-protocol client for the browser tests: headless Chromium driven over
``--remote-debugging-pipe`` (JSON messages ending in NUL on file descriptors 3 and 4), with the
standard library only, so the tests need no browser-automation package and nothing online.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

TIMEOUT = 60.0  # seconds to wait for one answer or event


class Chromium:
    """One headless Chromium with one page; ``errors`` collects what its console reported as
    an error and the exceptions its scripts threw."""

    def __init__(self, binary: str, profile: Path, width: int = 1280, height: int = 900) -> None:
        to_browser, self._write = os.pipe()
        self._read, from_browser = os.pipe()

        def fds() -> None:
            # Copies first: either end may already be 3 or 4 (and close-on-exec).
            reading, writing = os.dup(to_browser), os.dup(from_browser)
            os.dup2(reading, 3)
            os.dup2(writing, 4)

        self.proc = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=fds,
        )
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []
        self.errors: list[str] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Runtime", "Page", "Log"):
            self.call(f"{domain}.enable", session=True)
        self.size(width, height)

    def close(self) -> None:
        """Close the browser (killed if it does not go)."""
        try:
            self._send("Browser.close", {}, None)
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        os.close(self._write)
        os.close(self._read)

    def _send(self, method: str, params: dict[str, Any], session: str | None) -> int:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        return self._next

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        if "method" in message:
            self._event(message)
        return message

    def _event(self, message: dict[str, Any]) -> None:
        self.events.append(message)
        method, params = message["method"], message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append(str(details.get("exception", {}).get("description", details)))
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.errors.append(" ".join(str(a.get("value")) for a in params.get("args", [])))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            self.errors.append(params["entry"].get("text", ""))

    def call(self, method: str, session: bool = False, **params: Any) -> dict[str, Any]:
        """Send a command (to the page when ``session``) and return its result."""
        wanted = self._send(method, params, self.session if session else None)
        deadline = time.monotonic() + TIMEOUT
        while True:
            message = self._receive(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    def wait(self, method: str) -> dict[str, Any]:
        """The next event ``method`` (one already received counts)."""
        deadline = time.monotonic() + TIMEOUT
        for i, message in enumerate(self.events):
            if message["method"] == method:
                del self.events[i]
                return message
        while True:
            message = self._receive(deadline)
            if message.get("method") == method:
                self.events.remove(message)
                return message

    def size(self, width: int, height: int) -> None:
        """Lay the page out at ``width`` x ``height`` CSS pixels."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=width < 500,
        )

    def dark(self) -> None:
        """Ask the page for the dark colour scheme."""
        features = [{"name": "prefers-color-scheme", "value": "dark"}]
        self.call("Emulation.setEmulatedMedia", session=True, features=features)

    def open(self, url: str) -> float:
        """Load ``url`` and return the seconds until its load event."""
        self.events.clear()
        start = time.monotonic()
        self.call("Page.navigate", session=True, url=url)
        self.wait("Page.loadEventFired")
        return time.monotonic() - start

    def js(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        found = self.call(
            "Runtime.evaluate", session=True, expression=expression, returnByValue=True
        )
        if "exceptionDetails" in found:
            raise RuntimeError(str(found["exceptionDetails"]))
        return found["result"].get("value")

    def screenshot(self, path: Path, full: bool = False) -> None:
        """A PNG of the viewport (or of the whole page) at ``path``."""
        found = self.call("Page.captureScreenshot", session=True, captureBeyondViewport=full)
        path.write_bytes(base64.b64decode(found["data"]))
