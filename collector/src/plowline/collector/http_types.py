"""Server-neutral request and response records (the ASGI adapter fills them)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Request:
    method: str  # upper case
    path: str  # percent-decoded path, e.g. "/com.snowplowanalytics.snowplow/tp2"
    query_string: str  # raw (still percent-encoded), without "?"
    headers: list[tuple[str, str]]  # (lower-case name, value), in arrival order
    body: bytes = b""
    client_ip: str | None = None

    def header(self, name: str) -> str | None:
        """First value of a header (``name`` lower case)."""
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass(slots=True)
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """First value of a response header (``name`` lower case)."""
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]
