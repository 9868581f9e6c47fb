"""Vocabularies: every English and French word the grammar can emit, and the class of each unambiguous English word."""
import functools

from engine.data.grammar.lexicon import (
    _ADJECTIVES,
    _CONJS,
    _CONTRACT,
    _DETS,
    _ELIDE,
    _MANNERS,
    _NAMES,
    _NOMINAL_PREPS,
    _NOUNS,
    _NUMBERS_EN,
    _PRE_ADVERBS,
    _PRONOUNS,
    _TIMES,
    _TO,
    _VERBAL_PREPS,
    _VERBS,
)

BOS, EOS, PAD, UNK = "<s>", "</s>", "<pad>", "<unk>"    # vocabulary entries; no sentence contains them


@functools.cache
def english_vocab() -> tuple[str, ...]:
    """Every English word the grammar can emit, sorted."""
    words = {"very", "that", "who", "an", "not", "never", "do", "does", "did", "will", "is", "are", "was", "were",
             "can", "cannot", "must"}
    words.update(w for n in _NOUNS for w in n.en)
    words.update(a.en for a in _ADJECTIVES)
    words.update(w for v in _VERBS for w in (v.en if not v.stative else v.en[:3]))   # no "is seeing"
    words.update(p.en for p in _NAMES + _PRONOUNS)
    for entry in (*_DETS, *_NOMINAL_PREPS, *_VERBAL_PREPS, *_CONJS, *_MANNERS, *_PRE_ADVERBS, *_TIMES, _TO):
        words.update(entry.en)
    return tuple(sorted(words))


@functools.cache
def french_vocab() -> tuple[str, ...]:
    """Every French token the grammar can emit, contractions and elided forms included, sorted."""
    words = {"très", "qui", "que", "ne", "pas", "jamais", "a", "ont", "peut", "peuvent", "doit", "doivent", "de"}
    words.update(w for n in _NOUNS for w in n.fr)
    words.update(w for a in _ADJECTIVES for form in a.forms for w in form)
    words.update(w for v in _VERBS for w in v.fr)
    words.update(v.imperfect_form(plural) for v in _VERBS if not v.stative for plural in (False, True))
    words.update(v.participle(fem, plural) for v in _VERBS if v.frame == "tr" for fem in (False, True)
                 for plural in (False, True))
    words.update(p.fr for p in _NAMES + _PRONOUNS)
    words.update(w for d in _DETS for form in d.forms for w in form if w != "-")
    for entry in (*_NOMINAL_PREPS, *_VERBAL_PREPS, *_CONJS, *_MANNERS, *_PRE_ADVERBS, *_TIMES, _TO):
        words.update(entry.fr)
    words.update(_CONTRACT.values())
    words.update(_ELIDE.values())
    return tuple(sorted(words))


_KIND_NAMES = {"P": "person", "A": "animal", "T": "thing", "L": "place", "F": "food"}
_COLOURS = frozenset("red blue green yellow black white grey brown pink orange purple".split())


@functools.cache
def word_classes() -> dict[str, str]:
    """The class of each one-word English entry whose class is unambiguous: nouns by kind and number, colour and
    other adjectives, verbs by form, numbers, names, adverbs. Words the grammar uses in two classes are left out."""
    labels: dict[str, set[str]] = {}

    def add(word: str, label: str) -> None:
        if " " not in word:
            labels.setdefault(word, set()).add(label)
    for n in _NOUNS:
        add(n.en[0], f"noun: {_KIND_NAMES[n.kind]}")
        add(n.en[1], f"noun: {_KIND_NAMES[n.kind]}, plural")
    for a in _ADJECTIVES:
        add(a.en, "adjective: colour" if a.en in _COLOURS else "adjective")
    for v in _VERBS:
        for form, label in zip(v.en, ("verb: -s", "verb: base", "verb: past", "verb: -ing")):
            add(form, label)
    for w in _NUMBERS_EN:
        add(w, "number")
    for p in _NAMES:
        add(p.en, "name")
    for p in (*_MANNERS, *_PRE_ADVERBS):
        add(" ".join(p.en), "adverb")
    return {w: next(iter(s)) for w, s in sorted(labels.items()) if len(s) == 1}
