"""``python -m benchmarks anchors|day|home|outage|scale [options]`` (what ``scripts/bench``
runs)."""

from collections.abc import Callable, Sequence
import sys

from . import anchors, day, outage, scale


def _home(argv: Sequence[str] | None) -> int:
    """``bench home``: imported when run (it imports Home Assistant's bluetooth)."""
    from . import home  # noqa: PLC0415

    return home.main(argv)


COMMANDS: dict[str, Callable[[Sequence[str] | None], int]] = {
    "anchors": anchors.main,
    "day": day.main,
    "home": _home,
    "outage": outage.main,
    "scale": scale.main,
}

USAGE = (
    "usage: bench {anchors,day,home,outage,scale} [--json] [options]"
    "  (bench NAME --help)"
)


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to one benchmark."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in COMMANDS:
        print(USAGE, file=sys.stderr)
        return 2
    return COMMANDS[args[0]](args[1:])


if __name__ == "__main__":
    sys.exit(main())
