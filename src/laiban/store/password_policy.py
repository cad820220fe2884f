"""Which passwords staff may not choose: too short, too common, or built from their own name or e-mail.

"Too common" is checked against a list shipped with Laiban (`common_passwords.txt`: the 28,000 most
common passwords of the zxcvbn project's list, MIT, plus Swedish words added by hand), never over the
network. A password is refused when it is on the list, or when its *base* is: the password lower-cased,
å/ä/ö folded to a/a/o, digits and punctuation at either end taken off, simple leetspeak read back
(0→o, 1→i or l, 3→e, 4→a, 5→s, 7→t, @→a, $→s, ! → i) and spaces inside dropped. So "Sommar2024!",
"S0mmar 2024" and "lösenord123!" are all refused, and so is a base that only repeats a common word
("sommarsommar"), or a password of one or two characters over and over.

The list is read once, when the first password is checked.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

MIN_LENGTH = 10
MAX_LENGTH = 1000
# A part of the e-mail's local part or of the name shorter than this is not looked for ("eva" would
# refuse "nevada…"); the whole local part is.
MIN_PERSONAL_PART = 4

MAIL_SERVICES = {"gmail", "googlemail", "hotmail", "outlook", "live", "yahoo", "icloud", "telia", "mail"}

TOO_COMMON = (
    "Lösenordet är för vanligt eller för lätt att gissa. Välj ett längre lösenord av flera ord som inte "
    "hör ihop, till exempel fyra ord."
)
TOO_PERSONAL = "Lösenordet får inte innehålla ditt namn eller din e-postadress."
TOO_SHORT = f"Lösenordet måste ha minst {MIN_LENGTH} tecken."
TOO_LONG = "Lösenordet är för långt."
TOO_FEW_LETTERS = (
    "Lösenordet är för lätt att gissa: det är mest siffror, som ett datum eller ett telefon- eller "
    "personnummer. Använd ord, eller minst 16 tecken."
)

_FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "è": "e", "ü": "u", "æ": "a", "ø": "o"})
# 1 reads as i or l: both readings are tried.
_LEET_I = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
)
_LEET_L = str.maketrans(
    {"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
)
_ENDS = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_NOT_LETTERS = re.compile(r"[\W\d_]+")


def _fold(text: str) -> str:
    return text.strip().lower().translate(_FOLD)


def bases(password: str) -> set[str]:
    """The forms of `password` looked up in the list (see the module's text)."""
    folded = _fold(password)
    found = {folded, _NOT_LETTERS.sub("", folded)}
    core = _ENDS.sub("", folded)
    for table in (_LEET_I, _LEET_L):
        read = core.translate(table)
        found.add(read)
        found.add(_NOT_LETTERS.sub("", read))
    found.discard("")
    return found


def _unit(text: str) -> str:
    """The shortest string that `text` repeats ("abcabcabc" → "abc"), or `text` itself."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return text


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list, as bases: each entry in the forms `bases` gives."""
    text = files("laiban.store").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    words: set[str] = set()
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if line.isalpha():  # most lines; their only base is themselves
            words.add(_fold(line))
        else:
            words.update(base for base in bases(line) if len(base) >= 3)
    return frozenset(words)


def _personal_parts(email: str, name: str) -> set[str]:
    local, _, domain = _fold(email).partition("@")
    parts = {_NOT_LETTERS.sub("", local)} if len(_NOT_LETTERS.sub("", local)) >= 3 else set()
    # The domain's names too ("norrstad" of norrstad.se: the organisation), but not the top level or
    # a mail service's.
    organisation = [label for label in domain.split(".")[:-1] if label not in MAIL_SERVICES]
    for piece in re.split(r"[\W\d_]+", " ".join([local, _fold(name), *organisation])):
        if len(piece) >= MIN_PERSONAL_PART:
            parts.add(piece)
    return parts


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why `password` cannot be used, in Swedish, or None when it can. `email` and `name` are the
    account's: a password that contains their name, the e-mail's local part or its domain's name (parts
    of at least four letters) is refused."""
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    if len(password) > MAX_LENGTH:
        return TOO_LONG
    if len(set(password)) <= 2:  # "aaaaaaaaaa", "ababababab"
        return TOO_COMMON
    common = common_passwords()
    if any(base in common or _unit(base) in common for base in bases(password)):
        return TOO_COMMON
    forms = bases(password)
    if any(part in form for part in _personal_parts(email, name) for form in forms):
        return TOO_PERSONAL
    if sum(ch.isalpha() for ch in password) < 3 and len(password) < 16:
        return TOO_FEW_LETTERS
    return None
