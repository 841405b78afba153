"""Typed application keys shared by the simulator's HTTP modules."""

from aiohttp import web

from .world import World

WORLD: web.AppKey[World] = web.AppKey("tesla_sim_world", World)
