"""Parsing: English tokens -> every syntax tree the grammar reads in them; `translate` renders the first."""
from dataclasses import replace

from engine.data.grammar.lexicon import (
    _A,
    _ADJECTIVES,
    _CONJS,
    _DETS,
    _MANNERS,
    _NAMES,
    _NOMINAL_PREPS,
    _NOUNS,
    _PRE_ADVERBS,
    _PRONOUNS,
    _TIMES,
    _VERBAL_PREPS,
    _VERBS,
    _Adj,
    _Det,
)
from engine.data.grammar.render import Pair, _first_word, _render
from engine.data.grammar.trees import _NP, _PP, _VP, _Clause, _plural, _Sentence


def _index(entries, key) -> dict:
    out = {}
    for entry in entries:
        for word in key(entry):
            if word in out and out[word] != entry:
                raise ValueError(f"the English word {word!r} has two entries")
            out[word] = entry
    return out


_NOUN_SG = _index(_NOUNS, lambda n: (n.en[0],))
_NOUN_PL = _index(_NOUNS, lambda n: (n.en[1],))
_ADJ = _index(_ADJECTIVES, lambda a: (a.en,))
_PROPER = _index(_NAMES, lambda p: (p.en,))
_PRONOUN = _index(_PRONOUNS, lambda p: (p.en,))
_VERB_FORMS = tuple(_index(_VERBS, lambda v, k=k: (v.en[k],)) for k in range(4))   # 3sg, base, past, -ing
_PRE_ADV = _index(_PRE_ADVERBS, lambda p: p.en)


def _starting(entries) -> dict:
    """First English word -> the entries (phrases or determiners) that start with it."""
    out: dict[str, list] = {}
    for entry in entries:
        out.setdefault(entry.en[0], []).append(entry)
    return out


_DET_START = _starting(_DETS)
_NOMINAL_START = _starting(_NOMINAL_PREPS)
_VERBAL_START = _starting(_VERBAL_PREPS)
_CONJ_START = _starting(_CONJS)
_MANNER_START = _starting(_MANNERS)
_TIME_START = _starting(_TIMES)


class _Parser:
    """All parses of a token sequence; memoised on (rule, position, context), so long sentences stay cheap."""

    def __init__(self, words: tuple[str, ...]):
        self.w = words
        self.memo: dict = {}

    def at(self, i: int) -> str:
        return self.w[i] if i < len(self.w) else ""

    def match(self, table: dict, i: int) -> list:
        """Entries of a first-word table whose English words occur at position i, with the position after them."""
        out = []
        for entry in table.get(self.at(i), ()):
            if self.w[i:i + len(entry.en)] == entry.en:
                out.append((entry, i + len(entry.en)))
        return out

    def sentences(self, i: int = 0) -> list[tuple[tuple, tuple]]:
        key = ("s", i)
        if key not in self.memo:
            out = []
            for clause, j in self.clause(i):
                if j == len(self.w):
                    out.append(((clause,), ()))
                for conj, k in self.match(_CONJ_START, j):
                    out += [((clause,) + cs, (conj,) + js) for cs, js in self.sentences(k)]
            self.memo[key] = out
        return self.memo[key]

    def clause(self, i: int) -> list:
        out = []
        for subj, j in self.np(i, relative=True, subject=True):
            for vp, k in self.vp(j, _plural(subj)):
                out.append((_Clause(subj, vp), k))
                out += [(_Clause(subj, vp, time), m) for time, m in self.match(_TIME_START, k)]
        return out

    def adjective(self, i: int) -> tuple[_Adj, bool, int] | None:
        if self.at(i) == "very" and self.at(i + 1) in _ADJ:
            return _ADJ[self.at(i + 1)], True, i + 2
        if self.at(i) in _ADJ:
            return _ADJ[self.at(i)], False, i + 1
        return None

    def np(self, i: int, relative: bool, subject: bool = False) -> list:
        key = ("np", i, relative, subject)
        if key in self.memo:
            return self.memo[key]
        out = []
        word = self.at(i)
        if word in _PROPER or (subject and word in _PRONOUN):
            out.append((_NP(word=_PROPER.get(word) or _PRONOUN[word]), i + 1))
        dets = [(_A, i + 1)] if word == "an" else self.match(_DET_START, i)
        for det, j in dets:
            base = self.nominal(det, j)
            if base is None:
                continue
            np, k = base
            variants = [(np, k)]
            for prep, m in self.match(_NOMINAL_START, k):
                variants += [(replace(np, pp=_PP(prep, obj)), q) for obj, q in self.np(m, relative=False)]
            out += variants
            if relative:
                for np, k in variants:
                    rel = self.at(k)
                    if rel not in ("that", "who"):
                        continue
                    out += [(replace(np, rc=vp, rel=rel), q) for vp, q in self.vp(k + 1, np.plural)]
                    for subj, m in self.np(k + 1, relative=True, subject=True):
                        out += [(replace(np, orc=_Clause(subj, vp), rel=rel), q)
                                for vp, q in self.verb_groups(m, _plural(subj)) if vp.verb.frame == "tr"]
        self.memo[key] = out
        return out

    def nominal(self, det: _Det, i: int) -> tuple[_NP, int] | None:
        """[very] adjective [very] adjective noun after a determiner; English puts a pre-nominal adjective first."""
        adjs = []
        k = i
        while len(adjs) < 2 and (found := self.adjective(k)):
            adjs.append(found[:2])
            k = found[2]
        pre = post = (None, False)
        if len(adjs) == 2:
            if not adjs[0][0].pre or adjs[1][0].pre:
                return None
            pre, post = adjs
        elif adjs:
            pre, post = (adjs[0], post) if adjs[0][0].pre else (pre, adjs[0])
        word = self.at(k)
        if word in _NOUN_SG:
            noun, plural = _NOUN_SG[word], False
        elif word in _NOUN_PL:
            noun, plural = _NOUN_PL[word], True
        else:
            return None
        if det.number != "any" and (det.number == "pl") != plural:
            return None
        np = _NP(noun, plural, det, pre[0], pre[1], post[0], post[1])
        if det is _A and (self.at(i - 1) == "an") != (_first_word(np)[0] in "aeiou"):
            return None
        return np, k + 1

    def verb_groups(self, i: int, plural: bool) -> list[tuple[_VP, int]]:
        """Verb groups agreeing with a singular or plural subject; the complements are added by vp."""
        at, out = self.at, []
        present = _VERB_FORMS[1] if plural else _VERB_FORMS[0]
        base, past, ing = _VERB_FORMS[1], _VERB_FORMS[2], _VERB_FORMS[3]
        w0, w1, w2 = at(i), at(i + 1), at(i + 2)
        if w0 in present:
            out.append((_VP(present[w0], "present"), i + 1))
        if w0 in past:
            out.append((_VP(past[w0], "past"), i + 1))
        if w0 in _PRE_ADV or w0 == "never":
            adv, neg = (_PRE_ADV[w0], "") if w0 in _PRE_ADV else (None, "never")
            if w1 in present:
                out.append((_VP(present[w1], "present", neg, adv), i + 2))
            if w1 in past:
                out.append((_VP(past[w1], "past", neg, adv), i + 2))
        if w0 == ("do" if plural else "does") and w1 == "not" and w2 in base:
            out.append((_VP(base[w2], "present", "not"), i + 3))
        if w0 == "did" and w1 == "not" and w2 in base:
            out.append((_VP(base[w2], "past", "not"), i + 3))
        if w0 == "will":
            if w1 in base:
                out.append((_VP(base[w1], "future"), i + 2))
            if (w1 in ("not", "never") or w1 in _PRE_ADV) and w2 in base:
                neg, adv = (w1, None) if w1 in ("not", "never") else ("", _PRE_ADV[w1])
                out.append((_VP(base[w2], "future", neg, adv), i + 3))
        if w0 in (("are", "were") if plural else ("is", "was")):
            neg = "not" if w1 == "not" else ""
            verb = ing.get(at(i + 1 + bool(neg)))
            if verb and not verb.stative:
                out.append((_VP(verb, "prog" if w0[0] in "ai" else "pastprog", neg), i + 2 + bool(neg)))
        if w0 in ("can", "must", "cannot") and w1 in base:
            out.append((_VP(base[w1], "must" if w0 == "must" else "can", "not" if w0 == "cannot" else ""), i + 2))
        return out

    def vp(self, i: int, plural: bool) -> list:
        key = ("vp", i, plural)
        if key in self.memo:
            return self.memo[key]
        out = []
        for vp, j in self.verb_groups(i, plural):
            if vp.verb.frame == "tr":
                out += [(replace(vp, obj=obj), k) for obj, k in self.np(j, relative=True)]
            elif vp.verb.frame == "di":
                for obj, k in self.np(j, relative=True):
                    if self.at(k) == "to":
                        out += [(replace(vp, obj=obj, rec=rec), m) for rec, m in self.np(k + 1, relative=True)]
            else:
                ends = [(vp, j)] + [(replace(vp, manner=m), k) for m, k in self.match(_MANNER_START, j)]
                for v, k in ends:
                    out.append((v, k))
                    for prep, m in self.match(_VERBAL_START, k):
                        out += [(replace(v, pp=_PP(prep, obj)), q) for obj, q in self.np(m, relative=False)]
        self.memo[key] = out
        return out


def _parses(src) -> list[_Sentence]:
    return [_Sentence(cs, js) for cs, js in _Parser(tuple(src)).sentences()]


def translate(src) -> Pair | None:
    """The gold pair of an English token sequence, or None when the grammar cannot read it (strict English: "a"
    before a consonant, "an" before a vowel, verbs agreeing with their subject)."""
    trees = _parses(src)
    return _render(trees[0]) if trees else None
