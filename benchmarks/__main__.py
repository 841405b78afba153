"""``python -m benchmarks anchors|day|outage|scale [options]`` (what ``scripts/bench`` runs)."""

from collections.abc import Callable, Sequence
import sys

from . import anchors, day, outage, scale

COMMANDS: dict[str, Callable[[Sequence[str] | None], int]] = {
    "anchors": anchors.main,
    "day": day.main,
    "outage": outage.main,
    "scale": scale.main,
}

USAGE = (
    "usage: bench {anchors,day,outage,scale} [--json] [options]  (bench NAME --help)"
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
