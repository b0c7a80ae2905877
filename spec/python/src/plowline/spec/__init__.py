"""plowline-spec: Plowline's machine-readable spec and its Iglu resolver."""

__version__ = "0.1.0"
