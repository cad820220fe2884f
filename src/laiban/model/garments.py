"""What children wear outside: the garment catalogue, which garments exclude each other, the order in
which they are put on (and shown), and the weather conditions that corrections are made for."""

from __future__ import annotations

from enum import StrEnum

# The original Laiban's 14 garments, in the order a child puts them on (and the kiosk shows them).
GARMENTS = (
    "sweater",
    "pullover_pants",
    "neckwear",
    "jacket",
    "winter_outfit",
    "rain_coat",
    "rain_pants",
    "beanie",
    "cap",
    "shoes",
    "rain_boots",
    "winter_boots",
    "mittens",
    "rain_gloves",
)

# Never suggested together: of each group, the first one present wins over the later ones (warmer and
# waterproof before lighter). The winter outfit also replaces jacket and outdoor trousers.
EXCLUSIVE = (
    ("beanie", "cap"),
    ("rain_gloves", "mittens"),
    ("winter_boots", "rain_boots", "shoes"),
)


class Condition(StrEnum):
    """The weather condition clothes are chosen for (and corrected per)."""

    HOT = "hot"
    WARM = "warm"
    WARMISH = "warmish"
    COOL = "cool"
    COOL_RAIN = "cool_rain"
    COLD = "cold"
    COLD_RAIN = "cold_rain"
    RAIN = "rain"
    SNOW = "snow"


# For the admin (Swedish): what each condition means.
CONDITION_LABELS: dict[str, str] = {
    Condition.HOT: "Varmt (över 20 °C)",
    Condition.WARM: "Ganska varmt (16–20 °C)",
    Condition.WARMISH: "Milt (12–16 °C)",
    Condition.COOL: "Svalt (10–12 °C)",
    Condition.COOL_RAIN: "Svalt med regn (10–12 °C)",
    Condition.COLD: "Kallt (10 °C eller kallare)",
    Condition.COLD_RAIN: "Kallt med regn eller snöblandat (10 °C eller kallare)",
    Condition.RAIN: "Regn (över 12 °C)",
    Condition.SNOW: "Snöfall",
}


def in_dressing_order(garments: set[str] | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(g for g in GARMENTS if g in set(garments))
