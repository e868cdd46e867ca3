"""The style taxonomy: genres, their sub-styles, and the default style table of a generator
(a model's own table, in its checkpoint, is what the daemon offers)."""

from __future__ import annotations

GENRES: tuple[str, ...] = ("pop", "folk", "jazz", "drums", "classical")

SUBSTYLES: dict[str, tuple[str, ...]] = {
    "pop": (),
    "folk": ("air", "ashover", "christmas", "clog", "hornpipe", "jig", "morris", "playford",
             "reel", "slipjig", "strathspey", "waltz"),
    "jazz": ("bebop", "cool", "free", "fusion", "hardbop", "postbop", "swing", "traditional"),
    "drums": ("afrobeat", "afrocuban", "blues", "country", "dance", "funk", "gospel",
              "highlife", "hiphop", "jazz", "latin", "middleeastern", "neworleans", "pop",
              "punk", "reggae", "rock", "soul"),
    "classical": ("chorale", "madrigal", "medieval", "quartet"),
}

PERCUSSION_GENRES = frozenset({"drums"})   # genres whose parts are drum kits, not pitches

NO_STYLE = ""  # unconditioned generation

# The default style table of a generator: no style, every genre, every genre/sub-style.
STYLES: tuple[str, ...] = (
    NO_STYLE,
    *GENRES,
    *(f"{g}/{s}" for g in GENRES for s in SUBSTYLES[g]),
)


def style_tag(labels: tuple[str, ...] | list[str]) -> str:
    """Manifest labels ``(genre, sub?)`` -> a style tag ``genre`` or ``genre/sub``."""
    if not labels:
        return NO_STYLE
    return labels[0] if len(labels) == 1 else f"{labels[0]}/{labels[1]}"


def genre_of(tag: str) -> str:
    return tag.split("/", 1)[0]
