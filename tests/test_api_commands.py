"""Tests of the command parameter builders of the Tesla cloud client."""

import json

from custom_components.tesla_resilient.api import (
    Trunk,
    actuate_trunk,
    navigation_request,
)


def test_actuate_trunk_names_the_trunk() -> None:
    """The front trunk is the frunk; the value is a plain JSON string."""
    assert actuate_trunk(Trunk.FRONT) == {"which_trunk": "front"}
    assert json.dumps(actuate_trunk(Trunk.REAR)) == '{"which_trunk": "rear"}'


def test_navigation_request_shares_the_destination() -> None:
    """The destination is shared like text from the phone app, stamped in ms."""
    assert navigation_request("Alexanderplatz", locale="de", now=1700000000.25) == {
        "type": "share_ext_content_raw",
        "locale": "de",
        "timestamp_ms": "1700000000250",
        "value": {"android.intent.extra.TEXT": "Alexanderplatz"},
    }
