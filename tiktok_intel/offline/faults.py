"""Fault switches for the offline TikTok: make the next N matching requests fail the ways TikTok does."""

from __future__ import annotations

import dataclasses
import threading

#: kind -> what the server does instead of answering normally
FAULT_KINDS = {
    "429": "HTTP 429 Too Many Requests (with Retry-After: 0)",
    "500": "HTTP 500 Internal Server Error",
    "503": "HTTP 503 Service Unavailable",
    "captcha": "HTTP 200 with TikTok's captcha (verify) HTML page instead of JSON",
    "login": "HTTP 200 with a login-wall HTML page instead of JSON",
    "empty": "HTTP 200 with an empty body (what TikTok sends an unsigned or expired session)",
    "truncated": "HTTP 200 with the JSON cut off half-way",
    "slow": "answer normally after `delay` seconds",
    "expired": "cover images: HTTP 403, as for an expired x-expires URL",
    "quota": "Research API: HTTP 429 daily_quota_limit_exceeded",
}


@dataclasses.dataclass
class Fault:
    kind: str
    path: str | None = None  # request path prefix it applies to (None: every path)
    times: int | None = 1  # how many requests it hits (None: until cleared)
    delay: float = 0.0  # for 'slow'
    after: int = 0  # let this many matching requests through first

    def matches(self, path: str) -> bool:
        if self.path is not None:
            return path.startswith(self.path)
        if self.kind == "expired":
            return path.startswith("/obj/")
        if self.kind == "quota":
            return path.startswith("/v2/research/")
        return not path.startswith(("/_offline/", "/video/", "/photomode/", "/caption/"))  # media: `tiktok.media.bad`


class Faults:
    """Thread-safe list of armed faults; the first one matching a request fires."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[Fault] = []
        self.fired: list[tuple[str, str]] = []  # (kind, path), for tests and demos

    def add(self, kind: str, *, path: str | None = None, times: int | None = 1, delay: float = 0.0, after: int = 0) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}: choose one of {', '.join(FAULT_KINDS)}")
        fault = Fault(kind, path, times, delay, after)
        with self._lock:
            self._armed.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def take(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._armed:
                if fault.matches(path):
                    if fault.after > 0:
                        fault.after -= 1
                        continue
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._armed.remove(fault)
                    self.fired.append((fault.kind, path))
                    return fault
        return None

    def __len__(self) -> int:
        with self._lock:
            return len(self._armed)
