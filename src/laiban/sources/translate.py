"""Machine translation of staff texts (optional, off by default): a self-hosted service that speaks
LibreTranslate's API, set with `LAIBAN_TRANSLATE_URL`.

    POST {url}/translate  {"q": "fiskgratäng med potatis", "source": "sv", "target": "en", "format": "text"}
    → {"translatedText": "fish gratin with potatoes"}

Only the admin page "Översättningar" calls it, when staff press "Föreslå översättningar"; never a child's
question. What is sent is decided there (`laiban.web.admin.translations`): only the preschool's own staff
texts (dishes, events, activities, closed days' reasons, schedule titles), never one that holds the name
of a child, guardian or pickup person of the preschool (`mentions_a_name`). The call has the sources'
limits (timeouts, a size cap, an overall deadline) and fails with a `SourceError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import httpx

from laiban.sources import SourceError, json_of, post

NAME = "The translation service"
TIMEOUT = httpx.Timeout(10.0, connect=3.0)
DEADLINE = 15.0  # seconds for one text's whole reply
MAX_BYTES = 100_000  # a translation of at most 200 characters, and the service's JSON around it
SOURCE = "sv"


def translate(client: httpx.Client, base_url: str, text: str, target: str) -> str:
    """`text` (Swedish) in the language `target`. Raises SourceError (kind "http" with the status for a
    language the service does not know: LibreTranslate answers 400)."""
    response = post(
        client,
        f"{base_url.rstrip('/')}/translate",
        NAME,
        {"Accept": "application/json"},
        {"q": text, "source": SOURCE, "target": target, "format": "text"},
        deadline=DEADLINE,
        max_bytes=MAX_BYTES,
    )
    if not 200 <= response.status_code < 300:
        raise SourceError(f"{NAME} answered {response.status_code}.", status=response.status_code)
    data = json_of(response, NAME)
    translated = data.get("translatedText") if isinstance(data, dict) else None
    if not isinstance(translated, str) or not translated.strip():
        raise SourceError(f"{NAME} sent no translation.", status=response.status_code)
    return translated.strip()


def in_swedish(error: SourceError) -> str:
    """The problem in plain Swedish, for the admin page."""
    if error.kind == "timeout":
        return "Översättningstjänsten svarade inte i tid. Försök igen senare."
    if error.kind in ("unreachable", "address"):
        return (
            "Laiban kunde inte nå översättningstjänsten. Be den som sköter servern att kontrollera "
            "LAIBAN_TRANSLATE_URL."
        )
    if error.status is not None and error.status >= 500:
        return f"Översättningstjänsten har problem just nu (svar {error.status}). Försök igen senare."
    return "Översättningstjänsten svarade något som inte går att använda. Försök igen senare."


def name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern finding any of `names` as a whole word, whatever its case, also in the genitive
    ("Ellas", "Ali:s"); None without names."""
    words = sorted({name.strip() for name in names if name.strip()}, key=len, reverse=True)
    if not words:
        return None
    alternatives = "|".join(re.escape(word) for word in words)
    return re.compile(r"(?<!\w)(?:" + alternatives + r")(?:s|:s|'s|’s)?(?!\w)", re.IGNORECASE)


def mentions_a_name(text: str, names: re.Pattern[str] | None) -> bool:
    """Whether `text` holds one of the names (a whole word, any case): such a text is never sent."""
    return names is not None and names.search(text) is not None
