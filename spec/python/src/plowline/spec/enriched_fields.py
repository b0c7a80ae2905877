"""The 131 enriched-event fields in TSV order (Snowplow-compatible).

GENERATED from spec/enriched/fields.yaml by plowline.spec.generate: do not edit.
Regenerate with: uv run python -m plowline.spec.generate
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

FieldType = Literal["string", "int", "decimal", "double", "bool", "timestamp", "uuid", "json"]


@dataclass(frozen=True, slots=True)
class Field:
    """One enriched field; fields.yaml says what each key means."""

    index: int
    name: str
    type: FieldType
    max_length: int | None  # the atomic schema's maxLength
    length_limit: int | None  # enrich's default limit (enrich_limit or max_length)
    nullable: bool
    postgres: str | None  # atomic.events column type; None: shredded into entity tables


FIELDS: Final[tuple[Field, ...]] = (
    Field(0, "app_id", "string", 255, 255, True, "VARCHAR(255)"),
    Field(1, "platform", "string", 255, 255, True, "VARCHAR(255)"),
    Field(2, "etl_tstamp", "timestamp", None, None, True, "TIMESTAMP"),
    Field(3, "collector_tstamp", "timestamp", None, None, False, "TIMESTAMP NOT NULL"),
    Field(4, "dvce_created_tstamp", "timestamp", None, None, True, "TIMESTAMP"),
    Field(5, "event", "string", 128, 128, True, "VARCHAR(128)"),
    Field(6, "event_id", "uuid", 36, 36, False, "UUID NOT NULL"),
    Field(7, "txn_id", "int", None, None, True, "INTEGER"),
    Field(8, "name_tracker", "string", 128, 128, True, "VARCHAR(128)"),
    Field(9, "v_tracker", "string", 100, 100, True, "VARCHAR(100)"),
    Field(10, "v_collector", "string", 100, 100, False, "VARCHAR(100) NOT NULL"),
    Field(11, "v_etl", "string", 100, 100, False, "VARCHAR(100) NOT NULL"),
    Field(12, "user_id", "string", 255, 255, True, "VARCHAR(255)"),
    Field(13, "user_ipaddress", "string", 128, 128, True, "VARCHAR(128)"),
    Field(14, "user_fingerprint", "string", 128, 128, True, "VARCHAR(128)"),
    Field(15, "domain_userid", "string", 128, 128, True, "VARCHAR(128)"),
    Field(16, "domain_sessionidx", "int", None, None, True, "INTEGER"),
    Field(17, "network_userid", "string", 128, 128, True, "VARCHAR(128)"),
    Field(18, "geo_country", "string", 2, 2, True, "CHAR(2)"),
    Field(19, "geo_region", "string", 3, 3, True, "VARCHAR(3)"),
    Field(20, "geo_city", "string", 75, 75, True, "VARCHAR(75)"),
    Field(21, "geo_zipcode", "string", 15, 15, True, "VARCHAR(15)"),
    Field(22, "geo_latitude", "double", None, None, True, "DOUBLE PRECISION"),
    Field(23, "geo_longitude", "double", None, None, True, "DOUBLE PRECISION"),
    Field(24, "geo_region_name", "string", 100, 100, True, "VARCHAR(100)"),
    Field(25, "ip_isp", "string", 100, 100, True, "VARCHAR(100)"),
    Field(26, "ip_organization", "string", 128, 128, True, "VARCHAR(128)"),
    Field(27, "ip_domain", "string", 128, 128, True, "VARCHAR(128)"),
    Field(28, "ip_netspeed", "string", 100, 100, True, "VARCHAR(100)"),
    Field(29, "page_url", "string", 4096, 10000, True, "VARCHAR(10000)"),
    Field(30, "page_title", "string", 2000, 2000, True, "VARCHAR(2000)"),
    Field(31, "page_referrer", "string", 4096, 10000, True, "VARCHAR(10000)"),
    Field(32, "page_urlscheme", "string", 16, 16, True, "VARCHAR(16)"),
    Field(33, "page_urlhost", "string", 255, 255, True, "VARCHAR(255)"),
    Field(34, "page_urlport", "int", None, None, True, "INTEGER"),
    Field(35, "page_urlpath", "string", 3000, 3000, True, "VARCHAR(3000)"),
    Field(36, "page_urlquery", "string", 6000, 6000, True, "VARCHAR(6000)"),
    Field(37, "page_urlfragment", "string", 3000, 3000, True, "VARCHAR(3000)"),
    Field(38, "refr_urlscheme", "string", 16, 16, True, "VARCHAR(16)"),
    Field(39, "refr_urlhost", "string", 255, 255, True, "VARCHAR(255)"),
    Field(40, "refr_urlport", "int", None, None, True, "INTEGER"),
    Field(41, "refr_urlpath", "string", 6000, 6000, True, "VARCHAR(6000)"),
    Field(42, "refr_urlquery", "string", 6000, 6000, True, "VARCHAR(6000)"),
    Field(43, "refr_urlfragment", "string", 3000, 3000, True, "VARCHAR(3000)"),
    Field(44, "refr_medium", "string", 25, 25, True, "VARCHAR(25)"),
    Field(45, "refr_source", "string", 50, 50, True, "VARCHAR(50)"),
    Field(46, "refr_term", "string", 255, 255, True, "VARCHAR(255)"),
    Field(47, "mkt_medium", "string", 255, 255, True, "VARCHAR(255)"),
    Field(48, "mkt_source", "string", 255, 255, True, "VARCHAR(255)"),
    Field(49, "mkt_term", "string", 255, 255, True, "VARCHAR(255)"),
    Field(50, "mkt_content", "string", 500, 500, True, "VARCHAR(500)"),
    Field(51, "mkt_campaign", "string", 255, 255, True, "VARCHAR(255)"),
    Field(52, "contexts", "json", None, None, True, None),
    Field(53, "se_category", "string", 1000, 1000, True, "VARCHAR(1000)"),
    Field(54, "se_action", "string", 1000, 1000, True, "VARCHAR(1000)"),
    Field(55, "se_label", "string", 4096, 4096, True, "VARCHAR(4096)"),
    Field(56, "se_property", "string", 1000, 1000, True, "VARCHAR(1000)"),
    Field(57, "se_value", "decimal", None, None, True, "DOUBLE PRECISION"),
    Field(58, "unstruct_event", "json", None, None, True, None),
    Field(59, "tr_orderid", "string", 255, 255, True, "VARCHAR(255)"),
    Field(60, "tr_affiliation", "string", 255, 255, True, "VARCHAR(255)"),
    Field(61, "tr_total", "decimal", None, None, True, "DOUBLE PRECISION"),
    Field(62, "tr_tax", "decimal", None, None, True, "DOUBLE PRECISION"),
    Field(63, "tr_shipping", "decimal", None, None, True, "DOUBLE PRECISION"),
    Field(64, "tr_city", "string", 255, 255, True, "VARCHAR(255)"),
    Field(65, "tr_state", "string", 255, 255, True, "VARCHAR(255)"),
    Field(66, "tr_country", "string", 255, 255, True, "VARCHAR(255)"),
    Field(67, "ti_orderid", "string", 255, 255, True, "VARCHAR(255)"),
    Field(68, "ti_sku", "string", 255, 255, True, "VARCHAR(255)"),
    Field(69, "ti_name", "string", 255, 255, True, "VARCHAR(255)"),
    Field(70, "ti_category", "string", 255, 255, True, "VARCHAR(255)"),
    Field(71, "ti_price", "decimal", None, None, True, "DOUBLE PRECISION"),
    Field(72, "ti_quantity", "int", None, None, True, "INTEGER"),
    Field(73, "pp_xoffset_min", "int", None, None, True, "INTEGER"),
    Field(74, "pp_xoffset_max", "int", None, None, True, "INTEGER"),
    Field(75, "pp_yoffset_min", "int", None, None, True, "INTEGER"),
    Field(76, "pp_yoffset_max", "int", None, None, True, "INTEGER"),
    Field(77, "useragent", "string", 1000, 1000, True, "VARCHAR(1000)"),
    Field(78, "br_name", "string", 50, 50, True, "VARCHAR(50)"),
    Field(79, "br_family", "string", 50, 50, True, "VARCHAR(50)"),
    Field(80, "br_version", "string", 50, 50, True, "VARCHAR(50)"),
    Field(81, "br_type", "string", 50, 50, True, "VARCHAR(50)"),
    Field(82, "br_renderengine", "string", 50, 50, True, "VARCHAR(50)"),
    Field(83, "br_lang", "string", 255, 255, True, "VARCHAR(255)"),
    Field(84, "br_features_pdf", "bool", None, None, True, "BOOLEAN"),
    Field(85, "br_features_flash", "bool", None, None, True, "BOOLEAN"),
    Field(86, "br_features_java", "bool", None, None, True, "BOOLEAN"),
    Field(87, "br_features_director", "bool", None, None, True, "BOOLEAN"),
    Field(88, "br_features_quicktime", "bool", None, None, True, "BOOLEAN"),
    Field(89, "br_features_realplayer", "bool", None, None, True, "BOOLEAN"),
    Field(90, "br_features_windowsmedia", "bool", None, None, True, "BOOLEAN"),
    Field(91, "br_features_gears", "bool", None, None, True, "BOOLEAN"),
    Field(92, "br_features_silverlight", "bool", None, None, True, "BOOLEAN"),
    Field(93, "br_cookies", "bool", None, None, True, "BOOLEAN"),
    Field(94, "br_colordepth", "string", 12, 12, True, "VARCHAR(12)"),
    Field(95, "br_viewwidth", "int", None, None, True, "INTEGER"),
    Field(96, "br_viewheight", "int", None, None, True, "INTEGER"),
    Field(97, "os_name", "string", 50, 50, True, "VARCHAR(50)"),
    Field(98, "os_family", "string", 50, 50, True, "VARCHAR(50)"),
    Field(99, "os_manufacturer", "string", 50, 50, True, "VARCHAR(50)"),
    Field(100, "os_timezone", "string", 255, 255, True, "VARCHAR(255)"),
    Field(101, "dvce_type", "string", 50, 50, True, "VARCHAR(50)"),
    Field(102, "dvce_ismobile", "bool", None, None, True, "BOOLEAN"),
    Field(103, "dvce_screenwidth", "int", None, None, True, "INTEGER"),
    Field(104, "dvce_screenheight", "int", None, None, True, "INTEGER"),
    Field(105, "doc_charset", "string", 128, 128, True, "VARCHAR(128)"),
    Field(106, "doc_width", "int", None, None, True, "INTEGER"),
    Field(107, "doc_height", "int", None, None, True, "INTEGER"),
    Field(108, "tr_currency", "string", 3, 3, True, "CHAR(3)"),
    Field(109, "tr_total_base", "decimal", None, None, True, "DOUBLE PRECISION"),
    Field(110, "tr_tax_base", "decimal", None, None, True, "DOUBLE PRECISION"),
    Field(111, "tr_shipping_base", "decimal", None, None, True, "DOUBLE PRECISION"),
    Field(112, "ti_currency", "string", 3, 3, True, "CHAR(3)"),
    Field(113, "ti_price_base", "decimal", None, None, True, "DOUBLE PRECISION"),
    Field(114, "base_currency", "string", 3, 3, True, "CHAR(3)"),
    Field(115, "geo_timezone", "string", 64, 64, True, "VARCHAR(64)"),
    Field(116, "mkt_clickid", "string", 128, 1000, True, "VARCHAR(1000)"),
    Field(117, "mkt_network", "string", 64, 64, True, "VARCHAR(64)"),
    Field(118, "etl_tags", "string", 500, 500, True, "VARCHAR(500)"),
    Field(119, "dvce_sent_tstamp", "timestamp", None, None, True, "TIMESTAMP"),
    Field(120, "refr_domain_userid", "string", 128, 128, True, "VARCHAR(128)"),
    Field(121, "refr_dvce_tstamp", "timestamp", None, None, True, "TIMESTAMP"),
    Field(122, "derived_contexts", "json", None, None, True, None),
    Field(123, "domain_sessionid", "string", 128, 128, True, "VARCHAR(128)"),
    Field(124, "derived_tstamp", "timestamp", None, None, True, "TIMESTAMP"),
    Field(125, "event_vendor", "string", 1000, 1000, True, "VARCHAR(1000)"),
    Field(126, "event_name", "string", 1000, 1000, True, "VARCHAR(1000)"),
    Field(127, "event_format", "string", 128, 128, True, "VARCHAR(128)"),
    Field(128, "event_version", "string", 128, 128, True, "VARCHAR(128)"),
    Field(129, "event_fingerprint", "string", 128, 128, True, "VARCHAR(128)"),
    Field(130, "true_tstamp", "timestamp", None, None, True, "TIMESTAMP"),
)
FIELD_COUNT: Final = len(FIELDS)
FIELD_NAMES: Final[tuple[str, ...]] = tuple(f.name for f in FIELDS)
FIELD_INDEX: Final[dict[str, int]] = {f.name: f.index for f in FIELDS}
