"""Data files given by URI (issue 17 item 3): http(s) downloads, the cache, verification,
refresh with the old file kept until the new one is ready. Loopback servers only."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from plowline.enrich.enrichments.config import EnrichmentConfigError, load_enrichments
from plowline.enrich.enrichments.files import AssetCache, DataFileError, data_file, using
from plowline.enrich.enrichments.ip_lookups import IpLookups
from plowline.enrich.iglu import IgluValidator
from plowline.enrich.testing import write_mmdb

S = "iglu:com.snowplowanalytics.snowplow"


class Files(BaseHTTPRequestHandler):
    """Serves ``files`` by request target (a path, or a whole URL when used as a proxy)."""

    files: ClassVar[dict[str, bytes]] = {}
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        body = type(self).files.get(self.path)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Files.files = {}
    Files.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Files)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def mmdb(tmp_path: Path, city: str) -> bytes:
    path = tmp_path / f"{city}.mmdb"
    write_mmdb(str(path), {"203.0.113.0/24": {"city": {"names": {"en": city}}}})
    return path.read_bytes()


def ip_config(uri: str) -> str:
    return (
        f'{{"schema": "{S}/ip_lookups/jsonschema/2-0-1", "data": {{"name": "ip_lookups", '
        f'"vendor": "com.snowplowanalytics.snowplow", "enabled": true, "parameters": '
        f'{{"geo": {{"database": "GeoLite2-City.mmdb", "uri": "{uri}"}}}}}}}}'
    )


def folder_with(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "enrichments"
    folder.mkdir(exist_ok=True)
    (folder / "ip_lookups.json").write_text(text)
    return folder


def city(enrichment: Any) -> Any:
    assert isinstance(enrichment, IpLookups)
    # The memoised lookup the enrichment applies per event (so a swap must replace it too).
    answer = repr(enrichment._cached("203.0.113.7"))
    return next((c for c in ("London", "Paris") if c in answer), None)


def test_http_file_is_downloaded_once(
    server: str, tmp_path: Path, validator: IgluValidator
) -> None:
    Files.files["/maxmind/GeoLite2-City.mmdb"] = mmdb(tmp_path, "London")
    folder = folder_with(tmp_path, ip_config(f"{server}/maxmind/"))
    cache = AssetCache(tmp_path / "assets")
    (first,) = load_enrichments(folder, validator, cache)
    assert city(first) == "London"
    (again,) = load_enrichments(folder, validator, AssetCache(tmp_path / "assets"))
    assert city(again) == "London"
    assert Files.requests == ["/maxmind/GeoLite2-City.mmdb"]  # the second start used the cache


def test_refresh_swaps_in_a_changed_file_only_when_it_is_valid(
    server: str, tmp_path: Path, validator: IgluValidator
) -> None:
    Files.files["/m/GeoLite2-City.mmdb"] = mmdb(tmp_path, "London")
    cache = AssetCache(tmp_path / "assets")
    (enrichment,) = load_enrichments(
        folder_with(tmp_path, ip_config(f"{server}/m")), validator, cache
    )
    assert cache.refresh() == []  # same content: nothing to do
    Files.files["/m/GeoLite2-City.mmdb"] = b"not a database"
    with pytest.raises(DataFileError, match=r"not a valid GeoLite2-City\.mmdb"):
        cache.refresh()
    assert city(enrichment) == "London"  # the old file stays in use
    Files.files["/m/GeoLite2-City.mmdb"] = mmdb(tmp_path, "Paris")
    assert cache.refresh() == [f"{server}/m/GeoLite2-City.mmdb"]
    assert city(enrichment) == "Paris"  # the same enrichment object, rebuilt from the new file
    del Files.files["/m/GeoLite2-City.mmdb"]
    with pytest.raises(DataFileError, match="404"):
        cache.refresh()
    assert city(enrichment) == "Paris"


def test_missing_or_invalid_download_stops_the_start(
    server: str, tmp_path: Path, validator: IgluValidator
) -> None:
    folder = folder_with(tmp_path, ip_config(f"{server}/none"))
    with pytest.raises(EnrichmentConfigError, match=r"ip_lookups\.json: cannot configure .*404"):
        load_enrichments(folder, validator, AssetCache(tmp_path / "a"))
    Files.files["/bad/GeoLite2-City.mmdb"] = b"\x00" * 64
    folder = folder_with(tmp_path, ip_config(f"{server}/bad"))
    with pytest.raises(EnrichmentConfigError, match=r"not a valid GeoLite2-City\.mmdb"):
        load_enrichments(folder, validator, AssetCache(tmp_path / "b"))
    assert not any((tmp_path / "b").rglob("GeoLite2-City.mmdb"))  # nothing half-written kept


@pytest.mark.parametrize("uri", ["gs://bucket/maxmind", "ftp://host/x"])
def test_unsupported_schemes_are_named(uri: str, tmp_path: Path) -> None:
    with using(AssetCache(tmp_path)), pytest.raises(DataFileError, match=uri.split(":")[0]):
        data_file(uri, "GeoLite2-City.mmdb")
