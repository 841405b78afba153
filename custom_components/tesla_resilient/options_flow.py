"""Options flow: authenticator codes for sensitive actions, polling intervals.

The form that turns protection on is shared with the config flow's last steps
(flow_final.py). Nothing here logs the TOTP secret or a code.
"""

from collections.abc import Mapping
import time
from typing import Any

from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult, OptionsFlow
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    QrCodeSelector,
    QrCodeSelectorConfig,
    QrErrorCorrectionLevel,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
from homeassistant.helpers.translation import async_get_translations
import probatio

from .const import CONF_OTP_ACTIONS, CONF_OTP_SECRET, DOMAIN, ProtectedAction
from .flow_signin import CODE_SELECTOR, CONF_CODE
from .otp import (
    DEFAULT_PROTECTED_ACTIONS,
    OtpCodeReused,
    OtpError,
    OtpLockedOut,
    TotpGuard,
    code_is_valid,
    new_secret,
    provisioning_uri,
)
from .polling import POLLING_OPTIONS, PollingSettings
from .polling_cost import standard_day_cost

CONF_ENABLED = "enabled"
CONF_QR_CODE = "qr_code"

_ACTIONS_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=[str(action) for action in ProtectedAction],
        multiple=True,
        mode=SelectSelectorMode.LIST,
        translation_key=CONF_OTP_ACTIONS,
    )
)


def qr_code_field(data: str) -> dict[Any, Any]:
    """An optional form field that shows ``data`` (a link) as a QR code to scan."""
    return {
        probatio.Optional(CONF_QR_CODE): QrCodeSelector(
            QrCodeSelectorConfig(
                data=data, scale=5, error_correction_level=QrErrorCorrectionLevel.MEDIUM
            )
        )
    }


def new_protection(
    secret: str, user_input: Mapping[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Check the form that turns protection on with ``secret``.

    Return the options that enable it (once the actions and a valid current code are
    given), else None and the form's errors.
    """
    if user_input is None:
        return None, {}
    actions = user_input[CONF_OTP_ACTIONS]
    if not actions:
        return None, {CONF_OTP_ACTIONS: "no_actions"}
    if not code_is_valid(secret, user_input[CONF_CODE], time.time()):
        return None, {CONF_CODE: "invalid_code"}
    return {CONF_OTP_SECRET: secret, CONF_OTP_ACTIONS: list(actions)}, {}


def new_protection_form(secret: str, account: str) -> dict[str, Any]:
    """The schema and placeholders of the form that turns protection on.

    A QR code of the ``otpauth://`` URI for ``account``, the key to type instead, the
    actions (the defaults chosen) and the current code.
    """
    uri = provisioning_uri(secret, account)
    schema = probatio.Schema(
        {
            **qr_code_field(uri),
            probatio.Required(
                CONF_OTP_ACTIONS,
                default=[str(action) for action in DEFAULT_PROTECTED_ACTIONS],
            ): _ACTIONS_SELECTOR,
            probatio.Required(CONF_CODE): CODE_SELECTOR,
        }
    )
    return {
        "data_schema": schema,
        "description_placeholders": {"uri": uri, "key": secret},
    }


_INTERVAL_RANGES: dict[str, tuple[float, float]] = {
    "sleep_check_interval": (60, 7200),
    "driving_interval": (30, 900),
    "charging_interval": (300, 7200),
}
"""Seconds each polling option may take (min, max)."""


def _interval_selector(key: str) -> NumberSelector:
    low, high = _INTERVAL_RANGES[key]
    return NumberSelector(
        NumberSelectorConfig(
            min=low,
            max=high,
            step=1,
            unit_of_measurement="s",
            mode=NumberSelectorMode.BOX,
        )
    )


class OptionsFlowHandler(OptionsFlow):
    """Options: authenticator codes for sensitive actions, polling intervals.

    A protection change needs no reload (the update listener swaps the guard in place);
    new polling intervals reload the entry.
    """

    def __init__(self) -> None:
        """Start without a new secret or new intervals."""
        self._new_secret: str | None = None
        self._intervals: dict[str, float] = {}

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the options menu; its first item says whether protection is on."""
        on = bool(self.config_entry.options.get(CONF_OTP_SECRET))
        protection = "protection_change" if on else "protection_enable"
        return self.async_show_menu(
            step_id="init", menu_options=[protection, "polling"]
        )

    async def async_step_polling(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the polling intervals; the next step shows what they cost."""
        if user_input is not None:
            self._intervals = {key: float(user_input[key]) for key in POLLING_OPTIONS}
            return await self.async_step_polling_confirm()
        current = PollingSettings.from_options(self.config_entry.options)
        schema = probatio.Schema(
            {
                probatio.Required(key, default=getattr(current, key)): (
                    _interval_selector(key)
                )
                for key in POLLING_OPTIONS
            }
        )
        return self.async_show_form(
            step_id="polling",
            data_schema=schema,
            description_placeholders=await self._costs(current, "current"),
        )

    async def async_step_polling_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the monthly cost of the chosen intervals; save them on submit."""
        if user_input is not None:
            return self.async_create_entry(
                data={**self.config_entry.options, **self._intervals},
                description="polling",
            )
        chosen = PollingSettings.from_options(self._intervals)
        return self.async_show_form(
            step_id="polling_confirm",
            data_schema=probatio.Schema({}),
            description_placeholders={
                **await self._costs(chosen, "chosen"),
                **await self._costs(PollingSettings(), "default"),
            },
        )

    async def _costs(self, settings: PollingSettings, name: str) -> dict[str, str]:
        """``{name}_billed`` and ``{name}_free``: USD a month of the standard day."""
        cost = await self.hass.async_add_executor_job(standard_day_cost, settings)
        return {
            f"{name}_billed": f"{cost.usd_per_month:.2f}",
            f"{name}_free": f"{cost.usd_per_month_checks_free:.2f}",
        }

    async def async_step_protection_enable(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show a new secret; enable protection once the user enters a valid code."""
        if self._new_secret is None:
            self._new_secret = new_secret()
        enabled, errors = new_protection(self._new_secret, user_input)
        if enabled is not None:
            return await self._protection_saved(
                {**self.config_entry.options, **enabled}
            )
        return self.async_show_form(
            step_id="protection_enable",
            errors=errors,
            **new_protection_form(self._new_secret, self.config_entry.title),
        )

    async def async_step_protection_change(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the protected actions or turn protection off; needs a valid code."""
        options = dict(self.config_entry.options)
        errors: dict[str, str] = {}
        if user_input is not None:
            actions = user_input[CONF_OTP_ACTIONS]
            enabled = user_input[CONF_ENABLED]
            if enabled and not actions:
                errors[CONF_OTP_ACTIONS] = "no_actions"
            elif error := self._code_error(
                options[CONF_OTP_SECRET], user_input[CONF_CODE]
            ):
                errors[CONF_CODE] = error
            elif not enabled:
                options.pop(CONF_OTP_SECRET)
                options.pop(CONF_OTP_ACTIONS, None)
                return self.async_create_entry(
                    data=options, description="protection_off"
                )
            else:
                return await self._protection_saved(
                    {**options, CONF_OTP_ACTIONS: list(actions)}
                )
        schema = probatio.Schema(
            {
                probatio.Required(CONF_ENABLED, default=True): BooleanSelector(),
                probatio.Required(
                    CONF_OTP_ACTIONS, default=list(options.get(CONF_OTP_ACTIONS, []))
                ): _ACTIONS_SELECTOR,
                probatio.Required(CONF_CODE): CODE_SELECTOR,
            }
        )
        return self.async_show_form(
            step_id="protection_change", data_schema=schema, errors=errors
        )

    async def _protection_saved(self, options: dict[str, Any]) -> ConfigFlowResult:
        """Save ``options`` with protection on; the dialog names the protected actions."""
        names = await async_get_translations(
            self.hass, self.hass.config.language, "selector", {DOMAIN}
        )
        prefix = f"component.{DOMAIN}.selector.{CONF_OTP_ACTIONS}.options."
        actions = ", ".join(names.get(prefix + a, a) for a in options[CONF_OTP_ACTIONS])
        return self.async_create_entry(
            data=options,
            description="protection_on",
            description_placeholders={"actions": actions},
        )

    def _code_error(self, secret: str, code: str) -> str | None:
        """Check the code that changes the protection; return the error key, if any.

        While the entry runs, its guard checks the code, so that the lock-out and the
        replay check of the protected actions apply here too.
        """
        entry = self.config_entry
        guard: TotpGuard | None = (
            entry.runtime_data.guard if entry.state is ConfigEntryState.LOADED else None
        )
        if guard is None:
            return None if code_is_valid(secret, code, time.time()) else "invalid_code"
        try:
            guard.verify_settings_code(code)
        except OtpLockedOut:
            return "locked_out"
        except OtpCodeReused:
            return "code_reused"
        except OtpError:
            return "invalid_code"
        return None
