"""Which intent a normalised sentence is closest to: TF-IDF over words, word pairs and character n-grams,
scored against every training sentence (nearest neighbours) and every intent's centroid.

Character n-grams make misspellings and mishearings land near the right words ("klocka", "klokan");
IDF makes rare, telling words count more than "det" or "är"; unknown words still count in the question's
length, so a sentence made mostly of words Laiban has never seen gets a low similarity — the basis of
the honest "I don't know". Building is one pass over the sentences (no iterative training): a language
builds in a fraction of a second, and the same data always gives the same model.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from laiban.understanding.language import SLOT_MARK

NEIGHBOURS = 1  # a class's kNN score is the similarity of its most similar sentence
KNN_WEIGHT = 0.6  # the rest is the similarity to the class centroid


def features(tokens: Sequence[str]) -> Counter[str]:
    """Sparse features of a normalised sentence (slot words already replaced by §slot tokens)."""
    found: Counter[str] = Counter()
    for token in tokens:
        if token.startswith(SLOT_MARK):
            for slot in token[1:].split("+"):
                found["s:" + slot] += 1
            continue
        found["w:" + token] += 1
        padded = f"<{token}>"
        for n in (3, 4, 5):
            for i in range(len(padded) - n + 1):
                found["c:" + padded[i : i + n]] += 1
    for first, second in itertools.pairwise(tokens):
        found[f"b:{first} {second}"] += 1
    if tokens:
        found["f:" + tokens[0]] += 1
    return found


class Model:
    """Built from (tokens, intent) examples; `scores(tokens)` gives each intent a similarity in [0, 1]."""

    def __init__(self, examples: Sequence[tuple[Sequence[str], str]]):
        self.classes = sorted({intent for _, intent in examples})
        class_index = {name: i for i, name in enumerate(self.classes)}
        counted = [features(tokens) for tokens, _ in examples]
        self.vocabulary: dict[str, int] = {}
        document_frequency: Counter[str] = Counter()
        for feats in counted:
            document_frequency.update(feats.keys())
        for feature in sorted(document_frequency):
            self.vocabulary[feature] = len(self.vocabulary)
        count = len(examples)
        self.idf = np.array(
            [math.log((count + 1) / (document_frequency[f] + 1)) + 1 for f in sorted(document_frequency)],
            dtype=np.float64,
        )
        self.unknown_idf = math.log(count + 1) + 1  # a feature no training sentence has: rarest of all

        rows, cols, values = [], [], []
        for row, feats in enumerate(counted):
            ids = np.array([self.vocabulary[f] for f in feats], dtype=np.int64)
            weights = np.array([1 + math.log(c) for c in feats.values()]) * self.idf[ids]
            weights /= np.linalg.norm(weights) or 1.0
            rows.append(np.full(len(ids), row))
            cols.append(ids)
            values.append(weights)
        row_of = np.concatenate(rows)
        col_of = np.concatenate(cols)
        value_of = np.concatenate(values)
        # Column-major copy: for each feature, the sentences that have it (the inverted index).
        order = np.argsort(col_of, kind="stable")
        self._docs = row_of[order]
        self._values = value_of[order]
        self._starts = np.searchsorted(col_of[order], np.arange(len(self.vocabulary) + 1))
        self.labels = np.array([class_index[intent] for _, intent in examples])
        self._members = [np.flatnonzero(self.labels == c) for c in range(len(self.classes))]
        centroids = np.zeros((len(self.classes), len(self.vocabulary)))
        np.add.at(centroids, (self.labels[row_of], col_of), value_of)
        centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
        self._centroids = centroids

    def scores(self, tokens: Sequence[str]) -> dict[str, float]:
        feats = features(tokens)
        known = [(self.vocabulary[f], c) for f, c in feats.items() if f in self.vocabulary]
        unknown = [c for f, c in feats.items() if f not in self.vocabulary]
        if not known:
            return dict.fromkeys(self.classes, 0.0)
        ids = np.array([i for i, _ in known])
        weights = np.array([1 + math.log(c) for _, c in known]) * self.idf[ids]
        unknown_weights = np.array([1 + math.log(c) for c in unknown]) * self.unknown_idf
        norm = math.sqrt(float(weights @ weights) + float(unknown_weights @ unknown_weights))
        weights /= norm
        spans = [(self._starts[i], self._starts[i + 1]) for i in ids]
        docs = np.concatenate([self._docs[a:b] for a, b in spans])
        values = np.concatenate([self._values[a:b] * w for (a, b), w in zip(spans, weights, strict=True)])
        similarity = np.bincount(docs, weights=values, minlength=len(self.labels))
        centroid = self._centroids[:, ids] @ weights
        result = {}
        for c, members in enumerate(self._members):
            sims = similarity[members]
            k = min(NEIGHBOURS, len(sims))
            nearest = float(np.partition(sims, len(sims) - k)[-k:].mean())
            result[self.classes[c]] = KNN_WEIGHT * nearest + (1 - KNN_WEIGHT) * float(centroid[c])
        return result
