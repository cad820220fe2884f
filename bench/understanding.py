"""How well Laiban understands: accuracy, out-of-scope false accepts, slots, noise, latency, start-up.

Measured per language on the development sets in bench/data/understanding/dev-<lang>.yaml, written
separately from the training sentences and never trained on (the confidence threshold was chosen on
them), and, where present, on the held-out test sets test-<lang>.yaml, which no choice was made on
(figures prefixed `<lang>_test_`).

    python bench/understanding.py [--lang sv] [--errors] [--sweep]

Prints one `name value` figure per line; --errors lists the misunderstood sentences, --sweep shows
accuracy and false accepts for other confidence thresholds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import yaml

from laiban import understanding
from laiban.model.intent import OUT_OF_SCOPE, Context, Intent
from laiban.understanding import Recognizer
from laiban.understanding.language import load_language

DEV = Path(__file__).with_name("data") / "understanding"
ROSTER = (
    "Ella",
    "Noah",
    "Alice",
    "Liam",
    "Maja",
    "Hugo",
    "Saga",
    "Elias",
    "Wilma",
    "Omar",
    "Amira",
    "Leo",
    "Ebba",
    "Adam",
    "Nora",
)
EVENTS = (
    ("Frukost", "breakfast"),
    ("Samling", "gathering"),
    ("Fruktstund", "fruit"),
    ("Utevistelse", "outdoor"),
    ("Lunch", "lunch"),
    ("Vila", "rest"),
    ("Mellanmål", "snack"),
)
CONTEXT = Context(names=ROSTER, events=EVENTS)
NOISE = 0.20
SEED = 20261126
# Letters and letter groups that sound alike (or that speech recognition swaps), for "similar-sounding"
# substitutions in the noise test.
SOUND_ALIKE = {
    "sv": [
        ("ä", "e"),
        ("e", "ä"),
        ("å", "o"),
        ("o", "å"),
        ("k", "g"),
        ("g", "k"),
        ("ck", "k"),
        ("sj", "sk"),
        ("hj", "j"),
        ("dj", "j"),
        ("tj", "k"),
        ("ö", "u"),
        ("u", "o"),
        ("i", "e"),
        ("y", "i"),
        ("rn", "n"),
        ("d", "t"),
        ("b", "p"),
    ],
    "en": [
        ("ee", "ea"),
        ("ea", "ee"),
        ("ph", "f"),
        ("c", "k"),
        ("k", "c"),
        ("s", "z"),
        ("th", "d"),
        ("ie", "y"),
        ("er", "a"),
        ("ou", "o"),
        ("i", "e"),
        ("a", "e"),
        ("d", "t"),
        ("b", "p"),
        ("v", "f"),
        ("w", "v"),
    ],
}


def load_dev(lang: str, name: str = "dev") -> list[dict]:
    return yaml.safe_load((DEV / f"{name}-{lang}.yaml").read_text(encoding="utf-8"))


def sound_alike(word: str, lang: str, rng: random.Random) -> str:
    options = [(a, b) for a, b in SOUND_ALIKE[lang] if a in word]
    if not options:
        return word + word[-1]  # a stretched ending ("neeej")
    a, b = rng.choice(options)
    at = [i for i in range(len(word)) if word.startswith(a, i)]
    i = rng.choice(at)
    return word[:i] + b + word[i + len(a) :]


def add_noise(text: str, lang: str, rng: random.Random) -> str:
    """Each word, with probability NOISE, is dropped, said twice, or swapped for a sound-alike."""
    words = text.split()
    out = []
    for word in words:
        if rng.random() >= NOISE:
            out.append(word)
            continue
        action = rng.choice(("drop", "duplicate", "sound_alike"))
        if action == "duplicate":
            out += [word, word]
        elif action == "sound_alike":
            out.append(sound_alike(word, lang, rng))
        elif len(words) == 1:
            out.append(word)  # dropping the only word leaves nothing to ask
    return " ".join(out)


def evaluate(recognizer: Recognizer, items: list[dict], texts: list[str] | None = None) -> dict:
    texts = texts or [item["text"] for item in items]
    results = [recognizer.recognize(text, CONTEXT) for text in texts]
    per_intent: dict[str, list[bool]] = defaultdict(list)
    slots_right, yes_no_right, slot_values = [], [], Counter()
    false_accepts = []
    errors = []
    for item, text, got in zip(items, texts, results, strict=True):
        # The greeting kind (hello, thanks…) is not part of the dev sets' annotation.
        got = Intent(
            got.name, {k: v for k, v in got.slots.items() if k != "greeting"}, got.confidence, got.yes_no
        )
        expected = item["intent"]
        right = got.name == expected
        per_intent[expected].append(right)
        if expected == OUT_OF_SCOPE:
            false_accepts.append(not right)
        else:
            if right:
                wanted = {k: str(v) for k, v in (item.get("slots") or {}).items()}
                slots_right.append(dict(got.slots) == wanted)
                yes_no_right.append(got.yes_no == bool(item.get("yes_no", False)))
                for key, value in wanted.items():
                    slot_values[(key, got.slots.get(key) == value)] += 1
        if not right or (
            expected != OUT_OF_SCOPE
            and dict(got.slots) != {k: str(v) for k, v in (item.get("slots") or {}).items()}
        ):
            errors.append((text, item, got))
    in_scope = [ok for intent, oks in per_intent.items() if intent != OUT_OF_SCOPE for ok in oks]
    return {
        "in_scope_accuracy": sum(in_scope) / len(in_scope),
        "per_intent": {intent: sum(oks) / len(oks) for intent, oks in sorted(per_intent.items())},
        "oos_false_accepts": sum(false_accepts) / max(len(false_accepts), 1),
        "slot_accuracy": sum(slots_right) / max(len(slots_right), 1),
        "slot_value_accuracy": slot_values[(None, None)]
        or (sum(n for (_, ok), n in slot_values.items() if ok) / max(sum(slot_values.values()), 1)),
        "yes_no_accuracy": sum(yes_no_right) / max(len(yes_no_right), 1),
        "errors": errors,
    }


def cold_start_seconds(lang: str) -> float:
    """Import Laiban and build the model in a fresh Python process, as a server start does."""
    code = (
        "import time; t = time.perf_counter(); from laiban.understanding import recognizer_for; "
        f"recognizer_for({lang!r}); print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lang", action="append", help="only these languages (default: all with a dev set)")
    parser.add_argument("--errors", action="store_true", help="list the misunderstood sentences")
    parser.add_argument("--sweep", action="store_true", help="figures for other confidence thresholds")
    args = parser.parse_args()
    languages = args.lang or sorted(p.stem.removeprefix("dev-") for p in DEV.glob("dev-*.yaml"))
    for lang in languages:
        items = load_dev(lang)
        started = time.perf_counter()
        recognizer = Recognizer(load_language(lang))
        build = time.perf_counter() - started
        clean = evaluate(recognizer, items)
        rng = random.Random(SEED)
        noisy = evaluate(recognizer, items, [add_noise(item["text"], lang, rng) for item in items])
        timings = []
        for _ in range(3):
            for item in items:
                t = time.perf_counter()
                recognizer.recognize(item["text"], CONTEXT)
                timings.append((time.perf_counter() - t) * 1000)
        timings.sort()
        print(f"{lang}_dev_sentences {len(items)}")
        print(f"{lang}_training_sentences {len(recognizer.examples)}")
        print(f"{lang}_in_scope_accuracy {clean['in_scope_accuracy']:.3f}")
        for intent, accuracy in clean["per_intent"].items():
            print(f"{lang}_accuracy_{intent} {accuracy:.3f}")
        print(f"{lang}_oos_false_accept_rate {clean['oos_false_accepts']:.3f}")
        print(f"{lang}_slot_accuracy {clean['slot_accuracy']:.3f}")
        print(f"{lang}_slot_value_accuracy {clean['slot_value_accuracy']:.3f}")
        print(f"{lang}_yes_no_accuracy {clean['yes_no_accuracy']:.3f}")
        print(f"{lang}_noisy_in_scope_accuracy {noisy['in_scope_accuracy']:.3f}")
        print(
            f"{lang}_noise_drop_points {100 * (clean['in_scope_accuracy'] - noisy['in_scope_accuracy']):.1f}"
        )
        print(f"{lang}_noisy_oos_false_accept_rate {noisy['oos_false_accepts']:.3f}")
        print(f"{lang}_latency_p50_ms {statistics.median(timings):.3f}")
        print(f"{lang}_latency_p95_ms {timings[int(0.95 * len(timings))]:.3f}")
        print(f"{lang}_model_build_s {build:.3f}")
        print(f"{lang}_cold_start_s {cold_start_seconds(lang):.3f}")
        if (DEV / f"test-{lang}.yaml").exists():
            held_out = load_dev(lang, "test")
            test = evaluate(recognizer, held_out)
            noisy_test = evaluate(
                recognizer, held_out, [add_noise(item["text"], lang, rng) for item in held_out]
            )
            print(f"{lang}_test_sentences {len(held_out)}")
            print(f"{lang}_test_in_scope_accuracy {test['in_scope_accuracy']:.3f}")
            print(f"{lang}_test_oos_false_accept_rate {test['oos_false_accepts']:.3f}")
            print(f"{lang}_test_slot_accuracy {test['slot_accuracy']:.3f}")
            print(f"{lang}_test_yes_no_accuracy {test['yes_no_accuracy']:.3f}")
            print(f"{lang}_test_noisy_in_scope_accuracy {noisy_test['in_scope_accuracy']:.3f}")
            if args.errors:
                for text, item, got in test["errors"]:
                    print(
                        f"  TEST ERR {text!r}: want {item['intent']} {item.get('slots') or ''} "
                        f"got {got.name} {dict(got.slots)} ({got.confidence})",
                        file=sys.stderr,
                    )
        if args.sweep:
            for threshold in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5):
                understanding.THRESHOLD = threshold
                swept = evaluate(recognizer, items)
                print(
                    f"{lang}_sweep threshold={threshold} accuracy={swept['in_scope_accuracy']:.3f} "
                    f"false_accepts={swept['oos_false_accepts']:.3f}"
                )
        if args.errors:
            for text, item, got in clean["errors"]:
                print(
                    f"  ERR {text!r}: want {item['intent']} {item.get('slots') or ''} "
                    f"got {got.name} {dict(got.slots)} ({got.confidence})",
                    file=sys.stderr,
                )


if __name__ == "__main__":
    main()
