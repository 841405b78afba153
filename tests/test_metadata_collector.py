"""The checker's collectors and helpers on small trees written to tmp_path.

scripts/metadata/collector.py reads what the integration's source needs from its
metadata files with `ast`; these tests feed it a tiny integration that exercises every
pattern it knows.
"""

from pathlib import Path

import pytest

from scripts.metadata.collector import OAUTH_SHARED_ABORT_REASONS, collect
from scripts.metadata.files import undeclared_components
from scripts.metadata.repo import DOMAIN, has_path, headings
from scripts.metadata.texts import strings_problems

FAKE_CONST = """
from enum import StrEnum
from typing import Final
DOMAIN: Final = "tesla_resilient"
SERVICE_WAKE = "wake_vehicle"
ERROR_AUTH = "invalid_auth"
class Key(StrEnum):
    BATTERY = "battery_level"
    LIMIT = "charge_limit"
"""

FAKE_CONFIG_FLOW = """
from homeassistant.config_entries import ConfigFlow, OptionsFlow
from homeassistant.components.application_credentials import ClientCredential
from homeassistant.helpers.selector import SelectSelectorConfig
from .const import DOMAIN, ERROR_AUTH, Key

METHODS = [Key.BATTERY, "token"]
SELECT = SelectSelectorConfig(options=[str(k) for k in Key], translation_key="keys")

def _error_key(err):
    if err:
        return ERROR_AUTH
    return "unknown" if err is None else "cannot_connect"

def _not_a_key(err):
    if err:
        return "x"
    return None

class _SignIn:
    async def async_step_mfa(self, user_input=None):
        return self.async_show_form(step_id="mfa", errors={"base": "invalid_passcode"})

class Flow(_SignIn, ConfigFlow, domain=DOMAIN):
    async def async_step_user(self, user_input=None):
        return self.async_show_menu(step_id="user", menu_options=METHODS)
    async def async_step_password(self, user_input=None):
        errors: dict[str, str] = {}
        errors["base"] = ERROR_AUTH
        errors["code"] = _not_a_key(user_input)
        await self.async_set_unique_id("x")
        self._abort_if_unique_id_configured()
        if user_input:
            return self.async_abort(reason=_error_key(user_input))
        return self.async_abort(reason="oauth_error", translation_domain="homeassistant")
    async def async_step_reauth_confirm(self, user_input=None):
        return self.async_update_reload_and_abort(self._get_reauth_entry())

class Browser(config_entry_oauth2_flow.AbstractOAuth2FlowHandler, domain=DOMAIN):
    async def async_step_creds(self, user_input=None):
        if user_input:
            return self.async_abort(reason="oauth_error")  # Home Assistant's own text
        return self.async_abort(reason="no_vehicles")

class Options(OptionsFlow):
    async def async_step_init(self, user_input=None):
        errors = {"base": "wrong_code"}
        return self.async_show_form(step_id="init", errors=errors)
"""

FAKE_SENSOR = """
from homeassistant.components.sensor import SensorEntityDescription
from homeassistant.exceptions import ServiceValidationError
from .const import DOMAIN, Key
PARALLEL_UPDATES = 0
DESCRIPTIONS = (
    SensorEntityDescription(key="a", translation_key=Key.BATTERY),
    SensorEntityDescription(key="b", translation_key="charging_state",
                            options=["charging", "stopped"]),
    SensorEntityDescription(key="c", translation_key="limit_kind", options=list(Key)),
    SensorEntityDescription(key=f"x", translation_key=f"tpms_{1}"),
)
class Thing:
    _attr_translation_key = "data_source"
    def fail(self):
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="bad_code")
    def wrong(self):
        raise ServiceValidationError(translation_key="forgot_domain")
"""

FAKE_INIT = """
from typing import TYPE_CHECKING
from homeassistant.helpers import issue_registry as ir
from homeassistant.components.recorder import get_instance
from homeassistant.components import http
import homeassistant.components.cloud
from .const import DOMAIN, SERVICE_WAKE
if TYPE_CHECKING:
    from homeassistant.components.zeroconf import ZeroconfServiceInfo
async def async_setup(hass, config):
    hass.services.async_register(DOMAIN, SERVICE_WAKE, handler)
    hass.services.async_register("other_domain", "not_ours", handler)
    ir.async_create_issue(hass, DOMAIN, "outage", translation_key="cloud_outage")
"""

FAKE_DIAGNOSTICS = """
from homeassistant.components.diagnostics import async_redact_data
"""

FAKE_HELPERS = """
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from .const import DOMAIN

class GuardError(Exception):
    translation_key = "guard_failed"

class GuardLocked(GuardError):
    translation_key: str = "guard_locked"

class NotAnError:
    translation_key = "not_an_exception"

def translated_error(key, placeholders=None):
    return HomeAssistantError(translation_domain=DOMAIN, translation_key=key)

def raise_issue(hass, *, issue):
    ir.async_create_issue(hass, DOMAIN, issue, translation_key=issue)

def use(hass):
    raise_issue(hass, issue="token_revoked")
    return translated_error("command_failed", {"reason": "x"})
"""

FAKE_ENTITY = """
class BaseEntity:
    def __init__(self, description):
        self._attr_translation_key = description.translation_key or description.key
"""

FAKE_LOCK = """
from .const import DOMAIN
STATES = {"Engaged": "engaged", "Disengaged": "disengaged"}
LOCKS = (
    LockEntityDescription(key="doors"),
    LockEntityDescription(key="latch", translation_key="charge_port_latch"),
    LockEntityDescription(key="mode", options=list(STATES.values())),
    LockEntityDescription(key=f"window_{1}"),
)
def later(translated_error):
    raise translated_error(key="vehicle_asleep")
"""

FAKE_BUTTON = """
from homeassistant.helpers import entity_platform, service
from homeassistant.components.sensor import SensorDeviceClass
PARALLEL_UPDATES = 1
async def async_setup_entry(hass, entry, add):
    entity_platform.async_get_current_platform().async_register_entity_service("honk", None, "x")
    service.async_register_platform_entity_service(hass, "tesla_resilient", "flash", entity_domain="button")
"""


@pytest.fixture
def fake_integration(tmp_path: Path) -> Path:
    """A tiny integration tree exercising every pattern the collectors know."""
    package = tmp_path / DOMAIN
    package.mkdir()
    for name, text in {
        "const.py": FAKE_CONST,
        "config_flow.py": FAKE_CONFIG_FLOW,
        "sensor.py": FAKE_SENSOR,
        "__init__.py": FAKE_INIT,
        "diagnostics.py": FAKE_DIAGNOSTICS,
        "button.py": FAKE_BUTTON,
        "helpers.py": FAKE_HELPERS,
        "entity.py": FAKE_ENTITY,
        "lock.py": FAKE_LOCK,
    }.items():
        (package / name).write_text(text, encoding="utf-8")
    return package


def test_collector_finds_translation_paths(fake_integration: Path) -> None:
    """Flows, entity descriptions, exceptions and issues map to strings.json paths."""
    facts = collect(fake_integration)
    assert facts.translations == {
        "config.step.mfa",
        "config.error.invalid_passcode",
        "config.step.user",
        "config.step.user.menu_options.battery_level",
        "config.step.user.menu_options.token",
        "config.error.invalid_auth",
        "config.abort.already_configured",
        "config.abort.invalid_auth",
        "config.abort.unknown",
        "config.abort.cannot_connect",
        "config.abort.no_vehicles",
        "selector.keys.options.battery_level",
        "selector.keys.options.charge_limit",
        "options.error.wrong_code",
        "options.step.init",
        "entity.sensor.battery_level.name",
        "entity.sensor.charging_state.name",
        "entity.sensor.charging_state.state.charging",
        "entity.sensor.charging_state.state.stopped",
        "entity.sensor.data_source.name",
        "entity.sensor.limit_kind.name",
        "entity.sensor.limit_kind.state.battery_level",
        "entity.sensor.limit_kind.state.charge_limit",
        "exceptions.bad_code.message",
        "issues.cloud_outage.title",
        "issues.token_revoked.title",
        "exceptions.guard_failed.message",
        "exceptions.guard_locked.message",
        "exceptions.command_failed.message",
        "exceptions.vehicle_asleep.message",
        "entity.lock.doors.name",
        "entity.lock.charge_port_latch.name",
        "entity.lock.mode.name",
        "entity.lock.mode.state.engaged",
        "entity.lock.mode.state.disengaged",
    }
    assert "oauth_error" in OAUTH_SHARED_ABORT_REASONS
    assert len(facts.problems) == 1
    assert "forgot_domain" in facts.problems[0]


def test_collector_finds_services(fake_integration: Path) -> None:
    """Services registered for our domain, entity services and platform services."""
    assert collect(fake_integration).services == {"wake_vehicle", "honk", "flash"}


def test_collector_finds_undeclared_components(fake_integration: Path) -> None:
    """Imports of other integrations need dependencies; platforms and own files don't."""
    facts = collect(fake_integration)
    manifest = {"domain": DOMAIN, "dependencies": ["application_credentials"]}
    # recorder, http and cloud are undeclared; zeroconf is only for type checking;
    # sensor is an entity platform; diagnostics.py is the diagnostics platform.
    assert undeclared_components(fake_integration, facts, manifest) == {
        "recorder",
        "http",
        "cloud",
    }
    manifest["after_dependencies"] = ["recorder", "http", "cloud"]
    assert undeclared_components(fake_integration, facts, manifest) == set()


def test_strings_problems_detected() -> None:
    """The strings checker reports each kind of mistake and accepts clean text."""
    clean = {
        "config": {
            "step": {
                "user": {
                    "title": "Sign in",
                    "data": {"email": "Email"},
                    "data_description": {"email": "Your Tesla account's email."},
                }
            }
        }
    }
    assert strings_problems(clean) == []
    broken = {
        "config": {
            "step": {
                "user": {
                    "title": "Sign in ",
                    "description": "[%key:common::config_flow::data::email%]",
                    "data": {"email": "Email"},
                    "data_description": {"password": "Not a field"},
                }
            },
            "error": {"Bad-Key": "<b>bold</b>", "quoted": "Car '{name}'"},
        }
    }
    problems = strings_problems(broken)
    assert len(problems) == 6, problems
    for fragment in (
        "whitespace",
        "[%key:",
        "HTML",
        "single quotes",
        "Bad-Key",
        "password",
    ):
        assert any(fragment in p for p in problems), fragment


def test_has_path_and_headings() -> None:
    """The small helpers behave."""
    tree = {"a": {"b": {"c": "x"}}}
    assert has_path(tree, "a.b.c")
    assert has_path(tree, "a.b")
    assert not has_path(tree, "a.c")
    assert not has_path(tree, "a.b.c.d")
    assert headings("# T\ntext\n## Install\n### Remove it\n") == [
        "T",
        "Install",
        "Remove it",
    ]
