"""Media commands: playback, tracks, volume, and the external speaker's boombox."""

from ..car import Car
from .base import OK, CommandError, Params, Registry, Result, p_int, p_number

MAX_VOLUME = 11.0
BOOMBOX_SOUNDS = (0, 2000)
"""``remote_boombox`` sounds: 0 a random fart, 2000 the locate ping."""

MEDIA_COMMANDS = Registry()


@MEDIA_COMMANDS
def media_toggle_playback(car: Car, params: Params, now: float) -> Result:
    """Play or pause."""
    car.media_playing = not car.media_playing
    return OK


@MEDIA_COMMANDS
def media_next_track(car: Car, params: Params, now: float) -> Result:
    """The next track."""
    car.media_track += 1
    return OK


@MEDIA_COMMANDS
def media_prev_track(car: Car, params: Params, now: float) -> Result:
    """The previous track."""
    car.media_track = max(0, car.media_track - 1)
    return OK


@MEDIA_COMMANDS
def adjust_volume(car: Car, params: Params, now: float) -> Result:
    """Set the volume (0 to 11)."""
    volume = p_number(params, "volume")
    if not 0.0 <= volume <= MAX_VOLUME:
        raise CommandError("volume must be 0-11")
    car.media_volume = volume
    return OK


@MEDIA_COMMANDS
def remote_boombox(car: Car, params: Params, now: float) -> Result:
    """Play a sound through the external speaker."""
    if p_int(params, "sound") not in BOOMBOX_SOUNDS:
        raise CommandError("sound must be 0 or 2000")
    car.boombox_sounds += 1
    return OK
