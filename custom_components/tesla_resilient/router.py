"""How one car's commands travel: signed over the Fleet API, or plain REST.

Tesla tells in each vehicle item whether the car takes plain REST commands
(``command_signing``): ``required`` (every car since 2021) takes only commands signed with
the Vehicle Command Protocol (:mod:`.api.protocol`), ``allowed`` takes both, ``off`` (a
Model S/X built before 2021) only REST. The router:

* signs for ``required`` cars, and for ``allowed`` cars unless the car refused our key
  (they then take REST, which they accept);
* sends REST to ``off`` cars and to cars whose mode is not known (a set-up from the
  store); a 403 "Tesla Vehicle Command Protocol required" is learned once and remembered:
  that command and every later one are signed (a 403 carried nothing out);
* keeps one :class:`~.api.protocol.SignedVehicle` per car, so its sessions are reused
  (a command on a warm session is one request, on a cold one two);
* when the car does not know our key (``KeyNotPaired``) tells the entry through the
  dispatcher signal :func:`signal_key_not_paired` (``pairing.py`` asks Tesla again and
  raises the car's repair issue) and raises it for the translated "pair the virtual
  key" error.

A command whose outcome is unknown (``CommandOutcomeUnknown``) is never sent again, on
either path.
"""

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.dispatcher import async_dispatcher_send

from .api import CommandSigning, CommandSigningRequired, KeyNotPaired, TeslaFleetClient
from .api.protocol import SignedVehicle
from .const import DOMAIN, LOGGER
from .keys import async_get_app_key


def signal_key_not_paired(entry_id: str) -> str:
    """Dispatcher signal sent with a vehicle id when the car does not know our key."""
    return f"{DOMAIN}_key_not_paired_{entry_id}"


class CommandRouter:
    """Sends the commands of one car signed or as plain REST, as the car takes them."""

    def __init__(
        self,
        hass: HomeAssistant,
        client: TeslaFleetClient,
        *,
        entry_id: str,
        vehicle_id: str,
        vin: str,
        signing: Callable[[], CommandSigning],
    ) -> None:
        """Route for the car ``vehicle_id``/``vin``; ``signing`` reads its current mode."""
        self._hass = hass
        self._client = client
        self._entry_id = entry_id
        self._vehicle_id = vehicle_id
        self._vin = vin
        self._signing = signing
        self._signed: SignedVehicle | None = None
        self._signed_key: bytes | None = None
        self.signing_learned = False
        """A REST command was refused with "protocol required": sign from now on."""
        self.key_refused = False
        """The car refused our key; an ``allowed`` car then takes REST."""

    @property
    def mode(self) -> CommandSigning:
        """The car's ``command_signing`` as known now (learned ``required`` wins)."""
        return CommandSigning.REQUIRED if self.signing_learned else self._signing()

    def signs(self) -> bool:
        """Whether the next command goes signed."""
        mode = self.mode
        return mode is CommandSigning.REQUIRED or (
            mode is CommandSigning.ALLOWED and not self.key_refused
        )

    async def async_send(
        self, name: str, params: Mapping[str, Any] | None = None
    ) -> None:
        """Send the command ``name`` with its REST ``params`` the way the car takes it.

        Raises the api errors of the path taken (``KeyNotPaired`` for a car that does
        not know our key and takes nothing else).
        """
        if not self.signs():
            try:
                await self._client.command(self._vehicle_id, name, params)
            except CommandSigningRequired:
                LOGGER.info(
                    "Vehicle %s needs signed commands; signing from now on",
                    self._vehicle_id,
                )
                self.signing_learned = True
            else:
                return
        try:
            await (await self._signed_vehicle()).send(name, params)
        except KeyNotPaired:
            self.key_refused = True
            if self.mode is CommandSigning.ALLOWED:
                # Refused before anything was carried out; the car takes REST too.
                await self._client.command(self._vehicle_id, name, params)
                return
            async_dispatcher_send(
                self._hass, signal_key_not_paired(self._entry_id), self._vehicle_id
            )
            raise
        self.key_refused = False

    async def _signed_vehicle(self) -> SignedVehicle:
        """The car's signed sessions, made again only when the app key changed."""
        key = await async_get_app_key(self._hass)
        if self._signed is None or self._signed_key != key.public_bytes:
            self._signed = SignedVehicle(
                self._client, self._vehicle_id, self._vin, key.private_key
            )
            self._signed_key = key.public_bytes
        return self._signed
