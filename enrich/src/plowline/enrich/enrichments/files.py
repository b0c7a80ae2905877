"""Where an enrichment's data file lives: ``uri`` + ``database`` as in enrich configs.

Only local files are read (``file:///dir`` + ``database``), plus ``bundled:`` for the data
files that ship with plowline-enrich. Remote URIs are refused with a clear error: download the
file next to the config instead (enrich's downloader is out of scope for the pure pipeline).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from urllib.parse import unquote, urlsplit


class DataFileError(ValueError):
    """A configured data file that cannot be located."""


def data_file(uri: str, database: str, base_dir: Path | None = None) -> Path:
    parts = urlsplit(uri)
    if parts.scheme == "bundled":
        bundled = resources.files("plowline.enrich").joinpath("data", database)
        path = Path(str(bundled))
    elif parts.scheme == "file":
        path = Path(unquote(parts.path)) / database
    elif parts.scheme == "" and base_dir is not None:
        path = base_dir / unquote(parts.path) / database
    else:
        raise DataFileError(
            f"data file {database} at {uri}: only file:// and bundled: URIs are supported"
        )
    if not path.is_file():
        raise DataFileError(f"data file {path} does not exist")
    return path
