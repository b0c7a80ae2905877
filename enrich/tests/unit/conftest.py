"""Fixtures of the vendor adapter tests."""

from __future__ import annotations

import pytest
from plowline.enrich.adapters.testing import Webhook
from plowline.enrich.context import EnrichContext


@pytest.fixture
def webhook(ctx: EnrichContext) -> Webhook:
    return Webhook(ctx)
