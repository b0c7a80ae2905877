"""Where an enrichment's data file lives: ``uri`` + ``database`` as in enrich configs.

Local files: ``file:///dir`` + ``database``, a path relative to the config folder, and
``bundled:`` for the data files that ship with plowline-enrich.

Remote files, as Snowplow's enrich takes them (docs "Enrichments: assets"): ``http://`` and
``https://`` (urllib; the usual ``*_proxy`` variables apply) and ``s3://bucket/prefix`` (boto3;
``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3`` point it at LocalStack or another S3). Each is
downloaded once into the cache folder (``PLOWLINE_ENRICH_ASSETS_DIR``, default
``<tmp>/plowline-enrich-assets``) and read from there afterwards, also by later starts. A
download is verified before it is used: the byte count the server announced, the S3 ETag when
it is an MD5, and the file must open as what its name says (``.mmdb`` with maxminddb,
``.json`` as JSON). ``gs://`` is refused with an error naming the scheme: no light maintained
Google Cloud Storage client exists (``google-cloud-storage`` pulls in the whole Google auth
stack), so serve the file over HTTPS or download it.

Like enrich's assets refresher (``assetsUpdatePeriod``), ``AssetCache.refresh`` downloads every
remote file again; a file whose content changed replaces the old one only once it is complete
and verified (``os.replace``), and the enrichments built from it are rebuilt and swapped in.
Until then they keep using the old file. ``PLOWLINE_ENRICH_ASSETS_REFRESH`` (seconds) starts a
background refresher when enrichments are loaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
import urllib.request
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import maxminddb

REMOTE: Final = ("http", "https", "s3", "gs")
DEFAULT_TIMEOUT: Final = 60.0
_CHUNK: Final = 1 << 20


class DataFileError(ValueError):
    """A configured data file that cannot be located, downloaded or verified."""


def join_uri(uri: str, database: str) -> str:
    """``uri`` + ``/`` + ``database`` (enrich appends the file name to the folder URI)."""
    return uri.rstrip("/") + "/" + database


def verify_file(path: Path, database: str) -> None:
    """Raise DataFileError unless ``path`` opens as the kind of file ``database`` names."""
    try:
        if database.endswith(".mmdb"):
            maxminddb.open_database(str(path)).close()
        elif database.endswith(".json"):
            json.loads(path.read_text(encoding="utf-8"))
        else:
            path.read_text(encoding="utf-8")
    except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
        raise DataFileError(f"data file {database}: not a valid {database}: {exc}") from exc


@dataclass
class _Binding:
    urls: set[str]
    enrichment: Any
    rebuild: Callable[[], Any]


@dataclass
class AssetCache:
    """Remote data files downloaded once into ``folder``; ``refresh`` fetches them again."""

    folder: Path = field(default_factory=lambda: _default_folder())
    timeout: float = DEFAULT_TIMEOUT
    s3_client: Any = None
    _files: dict[str, tuple[Path, str]] = field(default_factory=dict)
    _bindings: list[_Binding] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def local_path(self, url: str, database: str) -> Path:
        digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
        return self.folder / digest / database

    def fetch(self, uri: str, database: str) -> Path:
        """The local copy of ``uri``/``database``, downloading it the first time."""
        url = join_uri(uri, database)
        local = self.local_path(url, database)
        with self._lock:
            if not local.is_file():
                self._download(url, database, local)
            self._files[url] = (local, database)
        _track(url)
        return local

    def bind(self, urls: set[str], enrichment: Any, rebuild: Callable[[], Any]) -> None:
        """Rebuild ``enrichment`` (and swap its state in) when one of ``urls`` changes."""
        with self._lock:
            self._bindings.append(_Binding(urls, enrichment, rebuild))

    def refresh(self) -> list[str]:
        """Download every remote file again; returns the URLs whose content changed.

        A failed or unverifiable download keeps the old file (and reports nothing changed
        for it); enrichments of changed files are rebuilt from the new files.
        """
        with self._lock:
            files = dict(self._files)
            bindings = list(self._bindings)
        changed: list[str] = []
        errors: list[str] = []
        for url, (local, database) in files.items():
            try:
                if self._download(url, database, local):
                    changed.append(url)
            except DataFileError as exc:
                errors.append(str(exc))
        for binding in bindings:
            if binding.urls.intersection(changed):
                fresh = binding.rebuild()
                # One attribute-dict update: every later event sees the new state.
                vars(binding.enrichment).update(vars(fresh))
        if errors:
            raise DataFileError("; ".join(errors))
        return changed

    def _download(self, url: str, database: str, local: Path) -> bool:
        """Fetch ``url`` next to ``local``, verify it, then replace ``local`` if it differs."""
        local.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{database}.", suffix=".part", dir=local.parent)
        part = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                digest = self._copy(url, out)
            verify_file(part, database)
            if local.is_file() and _sha256(local) == digest:
                return False
            os.replace(part, local)
            return True
        finally:
            with contextlib.suppress(FileNotFoundError):
                part.unlink()

    def _copy(self, url: str, out: Any) -> str:
        scheme = urlsplit(url).scheme
        if scheme in ("http", "https"):
            return self._copy_http(url, out)
        if scheme == "s3":
            return self._copy_s3(url, out)
        raise DataFileError(_unsupported(url))

    def _copy_http(self, url: str, out: Any) -> str:
        # http(s) only: _copy dispatched on the scheme.
        request = urllib.request.Request(url, headers={"User-Agent": "plowline-enrich"})  # noqa: S310
        try:
            # A fresh opener: the *_proxy variables are read now, not at first use.
            opener = urllib.request.build_opener()
            with opener.open(request, timeout=self.timeout) as response:
                expected = response.headers.get("Content-Length")
                digest, size = _stream(response, out)
        except OSError as exc:
            raise DataFileError(f"data file {url}: download failed: {exc}") from exc
        if expected is not None and int(expected) != size:
            raise DataFileError(f"data file {url}: got {size} bytes of {expected}")
        return digest

    def _copy_s3(self, url: str, out: Any) -> str:
        parts = urlsplit(url)
        bucket, key = parts.netloc, unquote(parts.path).lstrip("/")
        client = self.s3_client if self.s3_client is not None else _s3_client()
        try:
            answer = client.get_object(Bucket=bucket, Key=key)
        except Exception as exc:  # botocore's errors share no useful base class
            raise DataFileError(f"data file {url}: S3 download failed: {exc}") from exc
        md5 = hashlib.md5(usedforsecurity=False)
        body = answer["Body"]
        sha = hashlib.sha256()
        size = 0
        for chunk in iter(lambda: body.read(_CHUNK), b""):
            out.write(chunk)
            sha.update(chunk)
            md5.update(chunk)
            size += len(chunk)
        etag = str(answer.get("ETag", "")).strip('"')
        if "ContentLength" in answer and int(answer["ContentLength"]) != size:
            raise DataFileError(f"data file {url}: got {size} bytes of {answer['ContentLength']}")
        if etag and "-" not in etag and etag != md5.hexdigest():
            raise DataFileError(f"data file {url}: content does not match its ETag {etag}")
        return sha.hexdigest()


def _stream(source: Any, out: Any) -> tuple[str, int]:
    sha = hashlib.sha256()
    size = 0
    for chunk in iter(lambda: source.read(_CHUNK), b""):
        out.write(chunk)
        sha.update(chunk)
        size += len(chunk)
    return sha.hexdigest(), size


def _sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            sha.update(chunk)
    return sha.hexdigest()


def _s3_client() -> Any:
    import boto3  # type: ignore[import-untyped]  # only configs with s3:// files need it

    return boto3.client("s3")


def _default_folder() -> Path:
    configured = os.environ.get("PLOWLINE_ENRICH_ASSETS_DIR")
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / "plowline-enrich-assets"


def _unsupported(uri: str) -> str:
    scheme = urlsplit(uri).scheme
    if scheme == "gs":
        return (
            f"data file {uri}: gs:// is not supported (no light maintained Google Cloud "
            "Storage client); serve the file over https:// (public objects: "
            "https://storage.googleapis.com/<bucket>/<object>) or download it and use file://"
        )
    return (
        f"data file {uri}: scheme {scheme!r} is not supported "
        "(file://, a relative path, bundled:, http://, https://, s3://)"
    )


_ACTIVE: ContextVar[AssetCache | None] = ContextVar("plowline_enrich_assets", default=None)
_USED: ContextVar[set[str] | None] = ContextVar("plowline_enrich_assets_used", default=None)
_SHARED: list[AssetCache] = []


def shared_cache() -> AssetCache:
    """The cache in use: the one ``using`` set, else the process's (created on first use)."""
    active = _ACTIVE.get()
    if active is not None:
        return active
    if not _SHARED:
        _SHARED.append(AssetCache())
    return _SHARED[0]


@contextlib.contextmanager
def using(cache: AssetCache) -> Iterator[None]:
    """Within the block, remote data files go through ``cache``."""
    token = _ACTIVE.set(cache)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


@contextlib.contextmanager
def tracking() -> Iterator[set[str]]:
    """Collects the remote URLs fetched within the block."""
    used: set[str] = set()
    token = _USED.set(used)
    try:
        yield used
    finally:
        _USED.reset(token)


def _track(url: str) -> None:
    used = _USED.get()
    if used is not None:
        used.add(url)


def data_file(uri: str, database: str, base_dir: Path | None = None) -> Path:
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https", "s3"):
        cache = shared_cache()
        return cache.fetch(uri, database)
    if parts.scheme == "bundled":
        bundled = resources.files("plowline.enrich").joinpath("data", database)
        path = Path(str(bundled))
    elif parts.scheme == "file":
        path = Path(unquote(parts.path)) / database
    elif parts.scheme == "" and base_dir is not None:
        path = base_dir / unquote(parts.path) / database
    else:
        raise DataFileError(_unsupported(uri))
    if not path.is_file():
        raise DataFileError(f"data file {path} does not exist")
    return path
