"""The last, optional steps of a new entry: the authenticator, then waking sleeping cars.

The authenticator (pyotp) guards sensitive actions inside Home Assistant; Tesla's own
second factor happened at the sign-in, so both kinds of two-factor authentication are
set up in the config flow. It is the options flow's form (options_flow.py), its result
kept in the new entry's options.

A car asleep or offline at the set-up shows only what needs no data of the car until
it wakes by itself. The owner may have it woken once, right after the set-up, to learn
its features: the entry's options then list its VIN under ``wake_once`` (the set-up
wakes it and removes the list). Nothing here logs the TOTP secret or a code.
"""

from abc import abstractmethod
from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.helpers.selector import BooleanSelector
import probatio

from .api import VehicleState, VehicleSummary
from .const import CONF_WAKE_ONCE
from .options_flow import new_protection, new_protection_form
from .otp import new_secret

CONF_WAKE = "wake"
WAKE_COST = 0.02
"""Dollars Tesla bills for one wake-up (README, "Cost")."""


class FinalSteps(ConfigFlow):
    """The authenticator and the wake offer, before a new entry is written."""

    _vehicles: list[VehicleSummary]
    _title: str

    def __init__(self) -> None:
        """Start without options and without a new secret."""
        super().__init__()
        self._options: dict[str, Any] = {}
        self._otp_secret: str | None = None

    async def async_step_authenticator(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Offer the authenticator for sensitive actions (or to go on without)."""
        return self.async_show_menu(
            step_id="authenticator", menu_options=["otp_setup", "wake"]
        )

    async def async_step_otp_setup(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show a new secret; turn protection on once the owner types a valid code."""
        if self._otp_secret is None:
            self._otp_secret = new_secret()
        enabled, errors = new_protection(self._otp_secret, user_input)
        if enabled is not None:
            self._options.update(enabled)
            return await self.async_step_wake()
        return self.async_show_form(
            step_id="otp_setup",
            errors=errors,
            **new_protection_form(self._otp_secret, self._title),
        )

    async def async_step_wake(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Offer to wake the cars that sleep once, saying what it costs; then finish."""
        asleep = [v for v in self._vehicles if v.state is not VehicleState.ONLINE]
        if not asleep:
            return self._async_create()
        if user_input is not None:
            if user_input[CONF_WAKE]:
                self._options[CONF_WAKE_ONCE] = [vehicle.vin for vehicle in asleep]
            return self._async_create()
        return self.async_show_form(
            step_id="wake",
            data_schema=probatio.Schema(
                {probatio.Required(CONF_WAKE, default=False): BooleanSelector()}
            ),
            description_placeholders={
                "cars": ", ".join(v.display_name or v.vin for v in asleep),
                "cost": f"{WAKE_COST:.2f}",
                "total": f"{WAKE_COST * len(asleep):.2f}",
            },
        )

    def _async_create(self) -> ConfigFlowResult:
        """Write the new entry with the options chosen here."""
        return self.async_create_entry(
            title=self._title, data=self._entry_data(), options=self._options
        )

    @abstractmethod
    def _entry_data(self) -> dict[str, Any]:
        """The new entry's data; the config flow implements it."""
