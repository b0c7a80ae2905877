"""The vendor webhook adapters by collector path ``/{vendor}/{version}``
(enrich ``adapters/AdapterRegistry.scala``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from plowline.enrich.adapters import (
    callrail,
    cloudfront,
    google_analytics,
    hubspot,
    mailchimp,
    mailgun,
    mandrill,
    marketo,
    olark,
    pagerduty,
    pingdom,
    sendgrid,
    unbounce,
    urbanairship,
    vero,
)

if TYPE_CHECKING:
    from plowline.enrich.adapters import Adapter

ADAPTERS: Final[dict[tuple[str, str], Adapter]] = {
    ("com.mailchimp", "v1"): mailchimp.mailchimp,
    ("com.sendgrid", "v3"): sendgrid.sendgrid,
    ("com.mandrill", "v1"): mandrill.mandrill,
    ("com.mailgun", "v1"): mailgun.mailgun,
    ("com.pagerduty", "v1"): pagerduty.pagerduty,
    ("com.pingdom", "v1"): pingdom.pingdom,
    ("com.olark", "v1"): olark.olark,
    ("com.unbounce", "v1"): unbounce.unbounce,
    ("com.getvero", "v1"): vero.vero,
    ("com.urbanairship.connect", "v1"): urbanairship.urbanairship,
    ("com.hubspot", "v1"): hubspot.hubspot,
    ("com.marketo", "v1"): marketo.marketo,
    ("com.callrail", "v1"): callrail.callrail,
    ("com.amazon.aws.cloudfront", "wd_access_log"): cloudfront.cloudfront,
    ("com.google.analytics", "v1"): google_analytics.google_analytics,
}
