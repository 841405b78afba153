"""tesla_sim: a faithful local Tesla cloud (sign-in, Fleet API, virtual cars, faults, meter).

Run it with ``python -m tesla_sim --help``, or in tests::

    async with SimServer(seed=1, virtual_clock=True) as sim:
        sim.url, sim.world
"""

from .app import SimServer, create_app
from .clock import Clock, RealClock, VirtualClock
from .tokens import pkce_challenge
from .world import Account, MfaFactor, World

__all__ = [
    "Account",
    "Clock",
    "MfaFactor",
    "RealClock",
    "SimServer",
    "VirtualClock",
    "World",
    "create_app",
    "pkce_challenge",
]
