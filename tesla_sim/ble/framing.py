"""Bluetooth framing: a two-byte big-endian length before each message, in chunks.

A ``RoutableMessage`` of at most ``MAX_MESSAGE_BYTES`` goes over GATT as its length
(two bytes, big-endian) and its bytes, cut into chunks of at most MTU - 3 bytes (one
GATT write or notification each). The receiver puts the chunks together again.
"""

from . import CHUNK_BYTES, MAX_MESSAGE_BYTES


class FrameTooLong(ValueError):
    """A message longer than ``MAX_MESSAGE_BYTES``."""


def frame(message: bytes) -> bytes:
    """``message`` with its length prefix."""
    if len(message) > MAX_MESSAGE_BYTES:
        raise FrameTooLong(f"{len(message)} bytes")
    return len(message).to_bytes(2, "big") + message


def chunks(data: bytes, size: int = CHUNK_BYTES) -> list[bytes]:
    """``data`` cut into pieces of at most ``size`` bytes."""
    return [data[i : i + size] for i in range(0, len(data), size)]


class Reassembler:
    """Puts length-prefixed messages back together from chunks."""

    def __init__(self) -> None:
        """An empty buffer."""
        self._buffer = bytearray()

    def feed(self, chunk: bytes) -> list[bytes]:
        """Add ``chunk``; the messages it completes (a length over the maximum drops
        what was buffered)."""
        self._buffer += chunk
        done: list[bytes] = []
        while len(self._buffer) >= 2:
            length = int.from_bytes(self._buffer[:2], "big")
            if length > MAX_MESSAGE_BYTES:
                self._buffer.clear()
                break
            if len(self._buffer) < 2 + length:
                break
            done.append(bytes(self._buffer[2 : 2 + length]))
            del self._buffer[: 2 + length]
        return done
