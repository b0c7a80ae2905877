"""Currency conversion (``currency_conversion_config`` 1-0-0) with Open Exchange Rates.

As Snowplow's enrich (Snowplow docs "Currency conversion enrichment"; enrich
``CurrencyConversionEnrichment`` over scala-forex): with the enrichment enabled every event gets
``base_currency``; ``tr_total``, ``tr_tax``, ``tr_shipping`` (in ``tr_currency``) and ``ti_price``
(in ``ti_currency``) are converted into it as ``tr_total_base``, ``tr_tax_base``,
``tr_shipping_base`` and ``ti_price_base``, at the rate ``rateAt: EOD_PRIOR`` names: the end of
the day before the collector timestamp (Open Exchange Rates'
``GET {api}/historical/YYYY-MM-DD.json?app_id=KEY``). Rates are quoted against USD (what a
DEVELOPER account gets), so other pairs are crossed through USD; amounts are rounded half-even
to the base currency's minor unit and written as plain decimals. A failing API call or an
unknown currency is an enrichment failure (a bad row), as in enrich.

The API base URL is ``https://openexchangerates.org/api`` unless
``PLOWLINE_OPENEXCHANGERATES_URL`` names another (a stand-in or a proxy).
"""

from __future__ import annotations

import json
import os
import threading
import urllib.parse
import urllib.request
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, ClassVar, Final

from plowline.enrich.enrichments.base import Enrichment, EnrichmentError, EnrichState
from plowline.enrich.event import EnrichedEvent

DEFAULT_API: Final = "https://openexchangerates.org/api"
# ISO 4217 minor units that are not 2 (the others are 2).
_MINOR_UNITS: Final = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
                     "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}  # fmt: skip
_FIELDS: Final = (
    ("tr_total", "tr_currency", "tr_total_base"),
    ("tr_tax", "tr_currency", "tr_tax_base"),
    ("tr_shipping", "tr_currency", "tr_shipping_base"),
    ("ti_price", "ti_currency", "ti_price_base"),
)


class CurrencyConversion(Enrichment):
    name: ClassVar[str] = "currency_conversion_config"

    def __init__(
        self, api_key: str, base_currency: str, *, api: str | None = None, timeout: float = 5.0
    ) -> None:
        self.api_key = api_key
        self.base = base_currency.upper()
        self.api = api or os.environ.get("PLOWLINE_OPENEXCHANGERATES_URL") or DEFAULT_API
        self.api = self.api.rstrip("/")
        self.timeout = timeout
        self._rates: OrderedDict[str, dict[str, Decimal]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, parameters: dict[str, Any]) -> CurrencyConversion:
        return cls(str(parameters["apiKey"]), str(parameters["baseCurrency"]))

    def apply(self, event: EnrichedEvent, state: EnrichState) -> None:
        event.set("base_currency", self.base)
        wanted = [(a, c, o) for a, c, o in _FIELDS if event.get(a) and event.get(c)]
        if not wanted:
            return
        day = _prior_day(event.get("collector_tstamp"))
        for amount_field, currency_field, out in wanted:
            currency = (event.get(currency_field) or "").upper()
            try:
                amount = Decimal(event.get(amount_field) or "")
            except InvalidOperation:
                continue  # not a number: enrich converts only valid amounts
            event.set(out, self.convert(amount, currency, day, currency_field))

    def convert(self, amount: Decimal, currency: str, day: str, field: str = "") -> str:
        rates = self.rates(day)
        for code, name in ((currency, field or "currency"), (self.base, "baseCurrency")):
            if code not in rates:
                expectation = "a currency Open Exchange Rates knows"
                raise EnrichmentError({"field": name, "value": code, "expectation": expectation})
        value = amount * rates[self.base] / rates[currency]
        unit = Decimal(1).scaleb(-_MINOR_UNITS.get(self.base, 2))
        return format(value.quantize(unit, rounding=ROUND_HALF_EVEN), "f")

    def rates(self, day: str) -> dict[str, Decimal]:
        """USD-quoted rates at the end of ``day`` (cached: historical rates do not change)."""
        with self._lock:
            cached = self._rates.get(day)
            if cached is not None:
                self._rates.move_to_end(day)
                return cached
        query = urllib.parse.urlencode({"app_id": self.api_key})
        url = f"{self.api}/historical/{day}.json?{query}"
        try:
            opener = urllib.request.build_opener()
            with opener.open(url, timeout=self.timeout) as response:
                document = json.loads(response.read())
            rates = {str(k): Decimal(str(v)) for k, v in document["rates"].items()}
            rates[str(document.get("base", "USD"))] = Decimal(1)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            message = f"Open Exchange Rates error for {day}: {exc}".replace(self.api_key, "***")
            raise EnrichmentError(message) from exc
        with self._lock:
            self._rates[day] = rates
            while len(self._rates) > 400:
                self._rates.popitem(last=False)
        return rates


def _prior_day(collector_tstamp: str | None) -> str:
    try:
        moment = datetime.fromisoformat((collector_tstamp or "").replace(" ", "T"))
    except ValueError:
        missing = {"field": "collector_tstamp", "value": collector_tstamp, "expectation": "missing"}
        raise EnrichmentError(missing) from None
    return (moment.replace(tzinfo=UTC).date() - timedelta(days=1)).isoformat()
