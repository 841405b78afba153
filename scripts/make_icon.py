"""Draw the integration's brand images (an original design) with Pillow.

A red shield — the integration stays up when the cloud goes down — carrying a white
lightning bolt, on a transparent background. Drawn at 4x and scaled down for smooth
edges. Writes custom_components/tesla_resilient/brand/icon.png (256x256) and
icon@2x.png (512x512).

Usage: .venv/bin/python scripts/make_icon.py
"""

from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

BRAND_DIR = (
    Path(__file__).resolve().parent.parent / "custom_components/tesla_resilient/brand"
)
SIZES = {"icon.png": 256, "icon@2x.png": 512}
SUPERSAMPLE = 4

RED_TOP = (236, 52, 58)
RED_BOTTOM = (170, 18, 26)
RIM = (120, 10, 16)
WHITE = (255, 255, 255)

type Point = tuple[float, float]


def _quadratic(p0: Point, p1: Point, p2: Point, steps: int = 48) -> list[Point]:
    """Points of the quadratic Bezier curve p0 -> p2 with control point p1."""
    points = []
    for i in range(steps + 1):
        t = i / steps
        u = 1 - t
        points.append(
            (
                u * u * p0[0] + 2 * u * t * p1[0] + t * t * p2[0],
                u * u * p0[1] + 2 * u * t * p1[1] + t * t * p2[1],
            )
        )
    return points


def shield_outline(inset: float = 0.0) -> list[Point]:
    """The shield, in unit coordinates (0..1), shrunk by `inset` on every side."""
    left, right = 0.14 + inset, 0.86 - inset
    top, shoulder = 0.17 + inset, 0.09 + inset
    waist, tip = 0.52, 0.93 - inset * 1.6
    outline: list[Point] = []
    outline += _quadratic((left, top), (0.32, top), (0.5, shoulder))
    outline += _quadratic((0.5, shoulder), (0.68, top), (right, top))[1:]
    outline.append((right, waist))
    outline += _quadratic((right, waist), (right - 0.02, 0.78), (0.5, tip))[1:]
    outline += _quadratic((0.5, tip), (left + 0.02, 0.78), (left, waist))[1:]
    return outline


BOLT: Sequence[Point] = (
    (0.575, 0.17),
    (0.315, 0.565),
    (0.475, 0.565),
    (0.415, 0.84),
    (0.695, 0.435),
    (0.53, 0.435),
    (0.625, 0.17),
)


def _scaled(points: Sequence[Point], size: int) -> list[Point]:
    return [(x * size, y * size) for x, y in points]


def draw_icon(size: int) -> Image.Image:
    """Return the icon as an RGBA image of `size` x `size` pixels."""
    big = size * SUPERSAMPLE

    gradient = Image.new("RGBA", (big, big))
    pixels = ImageDraw.Draw(gradient)
    for y in range(big):
        t = y / (big - 1)
        colour = tuple(
            round(a + (b - a) * t) for a, b in zip(RED_TOP, RED_BOTTOM, strict=True)
        )
        pixels.line([(0, y), (big, y)], fill=(*colour, 255))

    outer = Image.new("L", (big, big), 0)
    ImageDraw.Draw(outer).polygon(_scaled(shield_outline(), big), fill=255)
    inner = Image.new("L", (big, big), 0)
    ImageDraw.Draw(inner).polygon(_scaled(shield_outline(0.035), big), fill=255)

    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    image.paste(Image.new("RGBA", (big, big), (*RIM, 255)), mask=outer)
    image.paste(gradient, mask=inner)

    # A soft highlight on the shield's left half gives it some depth.
    shine = Image.new("L", (big, big), 0)
    left_half = [(x, y) for x, y in shield_outline(0.035) if x <= 0.5]
    ImageDraw.Draw(shine).polygon(_scaled(left_half, big), fill=28)
    image.paste(Image.new("RGBA", (big, big), (*WHITE, 255)), mask=shine)

    ImageDraw.Draw(image).polygon(_scaled(BOLT, big), fill=(*WHITE, 255))
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    """Write every brand image."""
    BRAND_DIR.mkdir(parents=True, exist_ok=True)
    for name, size in SIZES.items():
        draw_icon(size).save(BRAND_DIR / name, optimize=True)
        print(f"wrote {BRAND_DIR / name} ({size}x{size})")


if __name__ == "__main__":
    main()
