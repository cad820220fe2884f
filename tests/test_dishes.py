"""Dishes: menu text from school kitchens made short for children, the picture per dish, and whether a
menu mentions a food the child asked about."""

from __future__ import annotations

import re

import pytest
import yaml

from laiban.model.menu import Dish
from laiban.skills.dishes import dish, foods, load_rules, mentions, picture_for, simplify
from laiban.understanding.language import SENTENCES

# (the kitchen's text, as children hear it, picture)
SWEDISH = [
    ("Krämig fiskgratäng med dill, serveras med kokt potatis (MSC)", "fiskgratäng med potatis", "fish"),
    ("Ugnsbakad lax med citronsås och kokt potatis (MSC)", "lax med citronsås och potatis", "fish"),
    (
        "Hemlagade köttbullar med gräddsås, potatismos och lingon",
        "köttbullar med gräddsås och potatismos",
        "meatballs",
    ),
    ("Krämig kycklinggryta med jasminris", "kycklinggryta med ris", "chicken"),
    ("Pasta Bolognese (KRAV)", "pasta bolognese", "pasta"),
    ("Fiskpinnar med remouladsås och potatis", "fiskpinnar med remouladsås och potatis", "fish_sticks"),
    ("Vegetarisk lasagne", "vegetarisk lasagne", "pasta"),
    ("Pannkakor med sylt och grädde", "pannkakor med sylt och grädde", "pancakes"),
    ("Kycklingsoppa med rotfrukter och bröd", "kycklingsoppa med rotfrukter och bröd", "soup"),
    ("Tacobuffé", "tacos", "tacos"),
    ("Ärtsoppa och pannkakor", "ärtsoppa och pannkakor", "soup"),
    ("Spaghetti och köttfärssås", "spaghetti och köttfärssås", "pasta"),
    ("Köttfärssås med fullkornsspaghetti", "köttfärssås med spaghetti", "pasta"),
    ("Korv stroganoff med ris", "korv stroganoff med ris", "sausage"),
    ("Falukorv med makaroner och ketchup", "falukorv med makaroner och ketchup", "sausage"),
    ("Stekt strömming med potatismos och lingon", "strömming med potatismos och lingon", "fish"),
    ("Risgrynsgröt med kanel och mjölk", "risgrynsgröt", "porridge"),
    ("Pyttipanna med stekt ägg och rödbetor", "pyttipanna med ägg och rödbetor", "potatoes"),
    ("Raggmunk med fläsk och lingon", "raggmunk med fläsk och lingon", "pancakes"),
    ("Kycklingnuggets med pommes och ketchup", "kycklingnuggets med pommes och ketchup", "chicken"),
    (
        "Grillad kyckling smaksatt med citron och timjan, serveras med klyftpotatis och tzatziki",
        "kyckling med klyftpotatis och tzatziki",
        "chicken",
    ),
    ("Kalops med kokt potatis och inlagda rödbetor", "kalops med potatis och rödbetor", "meat"),
    ("Chili con carne med ris", "chili con carne med ris", "meat"),
    ("Chili sin carne med ris (vegansk)", "chili sin carne med ris", "vegetables"),
    (
        "Vegetariska bullar med potatismos och gräddsås",
        "vegetariska bullar med potatismos och gräddsås",
        "vegetables",
    ),
    ("Bönbiffar med bulgur och yoghurtsås", "bönbiffar med bulgur och yoghurtsås", "vegetables"),
    (
        "Fläskfilé med gräddsås, klyftpotatis, grönsaker och sallad",
        "fläskfilé med klyftpotatis och grönsaker",
        "meat",
    ),
    ("Wallenbergare med potatismos, ärtor och smörsås", "wallenbergare med potatismos och ärtor", "meat"),
    ("Fisk- och skaldjursgryta med ris", "fisk- och skaldjursgryta med ris", "fish"),
    ("Dagens soppa: Tomatsoppa med ost och bröd", "tomatsoppa med ost och bröd", "soup"),
    ("Mustig köttgryta med ris", "köttgryta med ris", "meat"),
    ("Hembakat bröd med pålägg och frukt", "bröd med frukt", "bread"),
    ("Ugnspannkaka med bacon och lingonsylt", "ugnspannkaka med bacon och lingonsylt", "pancakes"),
    ("Köttbullar m. mos & lingon", "köttbullar med mos och lingon", "meatballs"),
    ("Fiskgratäng m/ potatis. Glass till efterrätt!", "fiskgratäng med potatis", "fish"),
    ("Torsk med äggsås och potatis. Innehåller: fisk, ägg, mjölk", "torsk med äggsås och potatis", "fish"),
    ("Kyckling från Sverige med ris", "kyckling med ris", "chicken"),
    ("Köttbullar, potatismos, lingon", "köttbullar, potatismos och lingon", "meatballs"),
    ("Blomkålssoppa", "blomkålssoppa", "soup"),
    ("Pizza Margherita", "pizza margherita", "pizza"),
    ("Omelett med ost och skinka", "omelett med ost och skinka", "egg"),
    ("Potatisgratäng med skinka", "potatisgratäng med skinka", "potatoes"),
    ("Tonfisksallad med bröd", "tonfisksallad med bröd", "salad"),
    ("Laxpasta med spenat", "laxpasta med spenat", "pasta"),
    ("KÖTTBULLAR MED MOS", "köttbullar med mos", "meatballs"),
    ("Lax 150 g, potatis 2 st", "lax och potatis", "fish"),
    ("Ekologisk havregrynsgröt med äpple och kanel (G, L)", "havregrynsgröt med äpple", "porridge"),
    ("Gulaschsoppa med bröd", "gulaschsoppa med bröd", "soup"),
    ("Grönsaksbiffar med couscous och örtdipp", "grönsaksbiffar med couscous och örtdipp", "vegetables"),
]

ENGLISH = [
    ("Creamy homemade chicken curry with rice (MSC)", "chicken curry with rice", "chicken"),
    ("Roasted salmon with lemon and herbs, served with boiled potatoes", "salmon with potatoes", "fish"),
    ("Organic spaghetti bolognese & garlic bread", "spaghetti bolognese and garlic bread", "pasta"),
    ("Fish fingers, chips and peas", "fish fingers, chips and peas", "fish_sticks"),
    ("Pancakes with jam and cream", "pancakes with jam and cream", "pancakes"),
    ("Hot dog with ketchup", "hot dog with ketchup", "sausage"),
    ("Today's soup: tomato soup", "tomato soup", "soup"),
    ("Fish and chips", "fish and chips", "fish"),
]


@pytest.mark.parametrize(("text", "simple", "picture"), SWEDISH)
def test_swedish_menus(text: str, simple: str, picture: str) -> None:
    assert simplify(text) == simple
    assert picture_for(text) == f"food/{picture}"
    assert dish(text) == Dish(text=text, simple=simple, picture=f"food/{picture}")


@pytest.mark.parametrize(("text", "simple", "picture"), ENGLISH)
def test_english_menus(text: str, simple: str, picture: str) -> None:
    assert simplify(text, "en") == simple
    assert picture_for(text, "en") == f"food/{picture}"


def test_the_issue_example() -> None:
    assert (
        simplify("Krämig fiskgratäng med dill, serveras med kokt potatis (MSC)") == "fiskgratäng med potatis"
    )


def test_enough_realistic_lines() -> None:
    assert len(SWEDISH) >= 30


@pytest.mark.parametrize(
    ("text", "food"),
    [
        ("Krämig fiskgratäng med dill", "fish"),
        ("Fiskpinnar med potatis", "fish"),
        ("Ugnsbakad lax", "fish"),
        ("Vegetariska bullar med potatismos", "vegetarian"),
        ("Bönbiffar med bulgur", "vegetarian"),
        ("Spaghetti och köttfärssås", "meat"),
        ("Spaghetti och köttfärssås", "spaghetti"),
        ("Spaghetti och köttfärssås", "pasta"),
        ("Köttbullar med mos", "meatballs"),
        ("Köttbullar med mos", "potatoes"),
        ("Kycklinggryta med jasminris", "chicken"),
        ("Kycklinggryta med jasminris", "rice"),
        ("Pannkakor med sylt", "pancakes"),
        ("Ärtsoppa och pannkakor", "soup"),
        ("Vegetarisk lasagne", "lasagna"),
        ("Vegetarisk lasagne", "pasta"),
        ("Falukorv med makaroner", "sausage"),
        ("Risgrynsgröt", "porridge"),
        ("Tacobuffé", "tacos"),
        ("Pizza", "pizza"),
        ("Fisk med sallad och bröd", "salad"),
        ("Fisk med sallad och bröd", "bread"),
        ("Kyckling med grönsaker", "vegetables"),
        ("Glass med jordgubbar", "ice_cream"),
        ("Glass med jordgubbar", "fruit"),
        ("Sockerkaka", "cake"),
        ("Bönbiffar (vegetarisk)", "vegetarian"),
    ],
)
def test_mentions(text: str, food: str) -> None:
    assert mentions(text, food)


@pytest.mark.parametrize(
    ("text", "food"),
    [
        ("Pannkakor med sylt och grädde", "fish"),
        ("Pannkakor med sylt och grädde", "cake"),
        ("Köttfri lasagne", "meat"),
        ("Chili sin carne med ris", "meat"),
        ("Bönbiffar med bulgur", "meat"),
        ("Grisfilé med potatis", "rice"),
        ("Fiskgratäng med potatis", "chicken"),
        ("Kycklinggryta med ris", "vegetarian"),
        ("Köttbullar med mos", "fish"),
        ("Kycklingsoppa med rotfrukter", "fruit"),
        ("Pannkakor med äppelmos", "potatoes"),
    ],
)
def test_does_not_mention(text: str, food: str) -> None:
    assert not mentions(text, food)


def test_english_mentions() -> None:
    assert mentions("Fish fingers and chips", "fish", "en")
    assert mentions("Fish fingers and chips", "potatoes", "en")
    assert not mentions("Pancakes with jam", "cake", "en")
    assert not mentions("Meat-free lasagne", "meat", "en")
    assert mentions("Meat-free lasagne", "vegetarian", "en")


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_food_slot_value_has_dish_data(lang: str) -> None:
    with (SENTENCES / lang / "slots.yaml").open(encoding="utf-8") as handle:
        slot_foods = set(yaml.safe_load(handle)["food"])
    assert slot_foods <= set(foods(lang))
    for food in slot_foods:
        mentions("mat", food, lang)  # known: does not raise


def test_unknown_food_and_language_are_clear_errors() -> None:
    with pytest.raises(LookupError, match="food"):
        mentions("Fiskgratäng", "dragon_fruit_pie")
    with pytest.raises(LookupError, match="language"):
        simplify("Fiskgratäng", "xx")


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_pictures_are_food_keys(lang: str) -> None:
    pictures = {food.picture for food in load_rules(lang).foods}
    assert all(re.fullmatch(r"food/[a-z_]+", p) for p in pictures)
    assert "food/plate" not in pictures  # the fallback is not a food


def test_plate_when_no_food_is_known() -> None:
    assert picture_for("Dagens överraskning") == "food/plate"
    assert picture_for("") == "food/plate"
    assert dish("(MSC)").picture == "food/plate"


def test_same_input_same_output() -> None:
    text = "Krämig kycklinggryta med jasminris, gräddsås, sallad och bröd (KRAV)"
    first = dish(text)
    load_rules.cache_clear()
    assert all(dish(text) == first for _ in range(5))


@pytest.mark.parametrize(
    ("text", "simple"),
    [
        ("", "mat"),
        ("   ", "mat"),
        ("(MSC)", "mat"),
        ("...", "mat"),
        ("((((", "mat"),
        ("KRAV", "krav"),  # nothing left by the rules: the kitchen's words, without brackets
        ("Med dill", "med dill"),
        ("Lax (MSC", "lax"),  # an unclosed bracket takes the rest with it
        ("Lax (med (dill)) och potatis", "lax och potatis"),
    ],
)
def test_never_empty(text: str, simple: str) -> None:
    assert simplify(text) == simple


def test_text_is_plain_text() -> None:
    """Sources remove markup; here "&" is a word ("och"), and the result holds only words and commas."""
    assert simplify("Korv & bröd") == "korv och bröd"
    for text, _, _ in SWEDISH:
        said = simplify(text)
        assert re.fullmatch(r"[^\W\d_][\w ,-]*", said) and not re.search(r"[\d_]|  |,,", said), said


def test_very_long_input_stays_short() -> None:
    long = ", ".join(["Krämig fiskgratäng med dill (MSC)", "kokt potatis", "gräddsås"] * 100)[:5000]
    assert len(long) == 5000
    said = simplify(long)  # the cut at 5,000 leaves a side "pota"
    assert said.startswith("fiskgratäng med potatis") and len(said.split()) <= 6
    assert picture_for(long) == "food/fish"
    words = " ".join(["potatis"] * 1000)[:5000]
    assert simplify(words) == "potatis potatis potatis potatis potatis"
    nested = "(" * 2500 + ")" * 2500 + "Lax"
    assert simplify(nested) == "lax"
    one_word = "ö" * 5000
    assert simplify(one_word) == one_word
    assert len(simplify("stekt " * 900)) <= 60
    assert mentions("x " * 2500 + "fisk", "fish")
