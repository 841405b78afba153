"""Every flow result of the integration rendered as the frontend renders it.

The autouse fixture ``render_every_step`` (registered in tests/conftest.py) wraps the
flow managers: each config-, options- or subentry-flow result any test receives has its
texts filled from strings.json with exactly the placeholders the frontend gives, and a
missing placeholder fails the test (the frontend would show "Translation [formatjs
Error: MISSING_VALUE]"). The frontend gives a menu step's title no placeholders and
every other text the result's ``description_placeholders``. A result translated by
another domain (Home Assistant's own ``reconfigure_successful``) is not ours to render.
With the flow modules fully covered by the tests, every step, error, abort and entry is
rendered.
"""

import json
from pathlib import Path
from typing import Any

from homeassistant.config_entries import (
    ConfigEntriesFlowManager,
    ConfigSubentryFlowManager,
    OptionsFlowManager,
)
from homeassistant.data_entry_flow import FlowManager, FlowResultType
import pytest

from custom_components.tesla_resilient.const import DOMAIN

STRINGS: dict[str, Any] = json.loads(
    (
        Path(__file__).parent.parent / "custom_components" / DOMAIN / "strings.json"
    ).read_text("utf-8")
)


def render(text: str, placeholders: dict[str, str]) -> str:
    """Fill ``text``'s placeholders as the frontend does; a missing one is an error."""
    try:
        return text.format_map(placeholders)
    except KeyError as err:
        raise AssertionError(f"{text!r} needs the placeholder {err}") from None


def rendered_texts(category: str, result: dict[str, Any]) -> list[str]:
    """The texts the frontend shows for ``result`` of a ``category`` ("config",
    "options" or "config_subentries.<type>") flow, each filled with the placeholders
    it is given."""
    strings = STRINGS
    for part in category.split("."):
        strings = strings[part]
    given = dict(result.get("description_placeholders") or {})
    kind = result["type"]
    if kind is FlowResultType.ABORT:
        return [render(strings["abort"][result["reason"]], given)]
    if kind is FlowResultType.CREATE_ENTRY:
        key = result.get("description")
        found = strings.get("create_entry", {}).get(key) if key else None
        return [render(found, given)] if found else []
    step = strings["step"].get(result["step_id"], {})
    menu = kind is FlowResultType.MENU
    texts = [render(step.get("title", ""), {} if menu else given)]
    texts.append(render(step.get("description", ""), given))
    if menu:
        texts += [
            render(step["menu_options"][o], given) for o in result["menu_options"]
        ]
    if kind is FlowResultType.SHOW_PROGRESS:
        texts.append(render(strings["progress"][result["progress_action"]], given))
    for error in (result.get("errors") or {}).values():
        texts.append(render(strings["error"][error], given))
    return texts


def _category(manager: FlowManager[Any, Any, Any], result: dict[str, Any]) -> str:
    """The strings.json section of a result of this integration, "" for another's."""
    if result.get("translation_domain") not in (None, DOMAIN):
        return ""
    if isinstance(manager, OptionsFlowManager):
        entry = manager.hass.config_entries.async_get_entry(result["handler"])
        return "options" if entry is not None and entry.domain == DOMAIN else ""
    if isinstance(manager, ConfigSubentryFlowManager):
        entry_id, subentry_type = result["handler"]
        entry = manager.hass.config_entries.async_get_entry(entry_id)
        ours = entry is not None and entry.domain == DOMAIN
        return f"config_subentries.{subentry_type}" if ours else ""
    if isinstance(manager, ConfigEntriesFlowManager):
        return "config" if result.get("handler") == DOMAIN else ""
    return ""  # a repair's flow: its texts are the issue's


@pytest.fixture(autouse=True)
def render_every_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """Render every result the integration's flows give (see the module's docstring)."""

    def wrap(owner: type[FlowManager[Any, Any, Any]], name: str) -> None:
        original = getattr(owner, name)

        async def rendering(
            self: FlowManager[Any, Any, Any], *args: Any, **kw: Any
        ) -> Any:
            result = await original(self, *args, **kw)
            if category := _category(self, result):
                rendered_texts(category, result)
            return result

        monkeypatch.setattr(owner, name, rendering)

    wrap(ConfigEntriesFlowManager, "async_init")  # it does not call FlowManager's
    wrap(FlowManager, "async_init")
    wrap(FlowManager, "async_configure")
