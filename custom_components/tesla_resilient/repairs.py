"""Repair flows: "I approved the virtual key" asks Tesla again (``pairing.py``)."""

from typing import Any

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import probatio

from .api import TeslaError
from .const import DOMAIN
from .pairing import async_check_pairing


class VirtualKeyRepairFlow(RepairsFlow):
    """The link to approve the key; on submit, Tesla is asked whether the car has it."""

    def __init__(self, entry_id: str, vehicle_id: str) -> None:
        """The flow of the car ``vehicle_id`` of the entry ``entry_id``."""
        self._entry_id = entry_id
        self._vehicle_id = vehicle_id

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Show the link and the re-check."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Submit: check the account's cars again; done once this car has the key."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                unpaired = await async_check_pairing(self.hass, entry)
            except TeslaError:
                errors["base"] = "cannot_check"
            else:
                if self._vehicle_id not in unpaired:
                    return self.async_create_entry(data={})
                errors["base"] = "still_unpaired"
        issue = ir.async_get(self.hass).async_get_issue(DOMAIN, self.issue_id)
        return self.async_show_form(
            step_id="confirm",
            data_schema=probatio.Schema({}),
            errors=errors,
            description_placeholders=issue.translation_placeholders if issue else None,
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """The fix flow of a car's virtual-key issue (``data``: entry and vehicle ids)."""
    data = data or {}
    return VirtualKeyRepairFlow(
        str(data.get("entry_id", "")), str(data.get("vehicle_id", ""))
    )
