"""Who and what the events are about: user ids, device and browser facts."""

from __future__ import annotations

from dataclasses import dataclass, field

from plowline.tracker.encoding import check_int, optional_text
from plowline.tracker.errors import InvalidEventError

Dimensions = tuple[int, int]


def _dims(name: str, value: object) -> str | None:
    if value is None:
        return None
    if (
        not isinstance(value, tuple | list)
        or len(value) != 2
        or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in value)
    ):
        raise InvalidEventError(f"{name} must be a pair of non-negative integers [width, height]")
    return f"{value[0]}x{value[1]}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Subject:
    """Subject properties sent with every event of a tracker (or of one ``track`` call).

    ``network_user_id`` goes out as ``tnuid``, the parameter enrich applies last, so it wins over
    the collector's cookie id (and over ``nuid``).
    """

    user_id: str | None = None
    domain_user_id: str | None = None
    network_user_id: str | None = None
    screen_resolution: Dimensions | None = None
    viewport: Dimensions | None = None
    color_depth: int | None = None
    timezone: str | None = None
    language: str | None = None
    ip_address: str | None = None
    useragent: str | None = None
    session_id: str | None = None
    session_index: int | None = None
    _wire: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Validate everything now and keep the wire form, so tracking only merges a dict.
        object.__setattr__(self, "_wire", self._build())

    def _build(self) -> dict[str, str]:
        params: dict[str, str | None] = {
            "uid": optional_text("user_id", self.user_id),
            "duid": optional_text("domain_user_id", self.domain_user_id),
            "tnuid": optional_text("network_user_id", self.network_user_id),
            "res": _dims("screen_resolution", self.screen_resolution),
            "vp": _dims("viewport", self.viewport),
            "cd": None
            if self.color_depth is None
            else str(check_int("color_depth", self.color_depth, minimum=0)),
            "tz": optional_text("timezone", self.timezone),
            "lang": optional_text("language", self.language),
            "ip": optional_text("ip_address", self.ip_address),
            "ua": optional_text("useragent", self.useragent),
            "sid": optional_text("session_id", self.session_id),
            "vid": None
            if self.session_index is None
            else str(check_int("session_index", self.session_index, minimum=1)),
        }
        return {k: v for k, v in params.items() if v is not None}

    def wire_params(self) -> dict[str, str]:
        """The subject's tracker-protocol parameters (a fresh copy)."""
        return dict(self._wire)
