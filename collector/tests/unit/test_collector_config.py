"""Configuration: defaults, TOML, environment overrides, readable validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from plowline.collector.config import (
    CollectorConfig,
    ConfigError,
    KafkaSinkConfig,
    StdoutSinkConfig,
    env_overrides,
    load_config,
)
from plowline.spec.framing import Framing

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "collector.toml"


def test_no_file_no_environment_gives_stdout_defaults() -> None:
    config = load_config(None, environ={})
    assert config == CollectorConfig()
    assert isinstance(config.sinks.good, StdoutSinkConfig)
    assert isinstance(config.sinks.bad, StdoutSinkConfig)
    assert (config.http.host, config.http.port) == ("127.0.0.1", 8080)
    assert config.cookie.name == "sp"
    assert config.limits.max_payload_bytes == 1_048_576
    assert config.limits.drop_payload_bytes == 2_097_152
    assert not config.redirect.enabled


def test_the_example_file_is_valid() -> None:
    config = load_config(EXAMPLE, environ={})
    assert isinstance(config.sinks.good, KafkaSinkConfig)
    assert config.sinks.good.topic == "snowplow-raw"
    assert config.cookie.domains == ["acme.com", "acme.co.uk"]


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[http]\nport = 1234\n[cookie]\nname = "a"\n')
    config = load_config(
        path,
        environ={
            "PLOWLINE_COLLECTOR_HTTP__PORT": "9999",
            "PLOWLINE_COLLECTOR_COOKIE__DOMAINS": '["x.com"]',
            "PLOWLINE_COLLECTOR_SINKS__FRAMING": "gzip",
            "PLOWLINE_COLLECTOR_SINKS__GOOD__TYPE": "kafka",
            "PLOWLINE_COLLECTOR_SINKS__GOOD__BOOTSTRAP_SERVERS": "127.0.0.1:9092",
            "PLOWLINE_COLLECTOR_SINKS__GOOD__TOPIC": "raw",
            "UNRELATED": "1",
        },
    )
    assert config.http.port == 9999
    assert config.cookie.name == "a"
    assert config.cookie.domains == ["x.com"]
    assert config.sinks.framing is Framing.GZIP
    assert isinstance(config.sinks.good, KafkaSinkConfig)


def test_env_values_are_toml_when_they_parse() -> None:
    tree = env_overrides({"PLOWLINE_COLLECTOR_A__B": "true", "PLOWLINE_COLLECTOR_C": "plain text"})
    assert tree == {"a": {"b": True}, "c": "plain text"}


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        ("[http]\nport = 70000", "http.port"),
        ("[http]\nprot = 1", "http.prot: Extra inputs are not permitted"),
        ("[redirect]\nenabled = true", "open redirect"),
        ('[paths]\n"/a/b" = "/elsewhere"', "targets must be one of"),
        ('[paths]\n"/abc" = "/r/tp2"', "two segments"),
        ('[sinks.good]\ntype = "kafka"', "sinks.good.kafka.topic: Field required"),
        ('[sinks.good]\ntype = "ftp"', "sinks.good"),
        ("[do_not_track_cookie]\nenabled = true", "name is required"),
        ('[do_not_track_cookie]\nvalue = "("', "regular expression"),
        ("[limits]\nmax_payload_bytes = 5000\ndrop_payload_bytes = 4000", "drop_payload_bytes"),
        ('[cookie]\ndomains = ["ex ample.com"]', "cookie domain"),
        ('[cookie]\nname = "a b"', "cookie.name"),
        ('[root_response]\nheaders = { "X" = "a\\nb" }', "printable"),
        ('[sinks]\nframing = "zstd"\n[sinks.good]\ntype = "s3"\nbucket = "b"', "framing"),
        ('[redirect]\nenabled = true\nallowed_hosts = ["a.com/x"]', "not a host name"),
        ("[limits]\nmax_inflight_body_bytes = 4096", "max_inflight_body_bytes"),
        ("[http]\nbody_timeout_seconds = 0", "http.body_timeout_seconds"),
    ],
)
def test_invalid_configs_name_the_key_and_reason(tmp_path: Path, toml: str, fragment: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert fragment in str(info.value)
    assert str(path) in str(info.value)


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml", environ={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[http\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad, environ={})


def test_env_key_cannot_be_both_value_and_section() -> None:
    with pytest.raises(ConfigError, match="both a value and a section"):
        env_overrides({"PLOWLINE_COLLECTOR_A": "1", "PLOWLINE_COLLECTOR_A__B": "2"})
