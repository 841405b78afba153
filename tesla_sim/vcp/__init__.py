"""The car side of Tesla's Vehicle Command Protocol (signed commands over the Fleet API).

Written from Tesla's protocol description (``pkg/protocol/protocol.md`` of the
vehicle-command repository) and its car-side verifier; message classes come from
``tesla-protocol``.

* ``tags`` -- the cryptography: shared key, derived keys, metadata, HMAC tags
* ``aes`` -- AES-GCM-personalized commands and encrypted answers (Bluetooth)
* ``sessions`` -- per car and domain a key pair, epoch, clock and the clients' counters
* ``verifier`` -- what a car accepts, and the fault it answers otherwise
* ``replies`` -- session info, faults and payloads in the answer
* ``vcsec`` / ``actions`` -- VCSEC requests and car-server actions as REST commands
* ``calls`` -- running those commands through the REST command handlers
* ``endpoint`` -- one message in, the car's answer out
"""

from .endpoint import BadMessage, MissingScope, answer, parse
from .sessions import DOMAIN_NAMES, DOMAINS, CarKeys, KeyRing

__all__ = [
    "DOMAINS",
    "DOMAIN_NAMES",
    "BadMessage",
    "CarKeys",
    "KeyRing",
    "MissingScope",
    "answer",
    "parse",
]
