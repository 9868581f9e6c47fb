"""Generation: random sentence pairs from the caller's random.Random: single pairs, corpora, test sets by length."""
import bisect
import random

from engine.data import DataError
from engine.data.grammar.lexicon import (
    _ANY,
    _CONJ_WEIGHTS,
    _CONJS,
    _DET_WEIGHTS,
    _DETS,
    _MANNERS,
    _NAMES,
    _NOMINAL_PREPS,
    _NOUNS,
    _POST_ADJ,
    _PRE_ADJ,
    _PRE_ADVERBS,
    _PRONOUNS,
    _TIMES,
    _VERBAL_PREPS,
    _VERBS,
    _Phrase,
    _Verb,
)
from engine.data.grammar.render import Pair, _render
from engine.data.grammar.trees import _NP, _PP, _VP, _Clause, _plural, _Sentence

BUCKETS = ((1, 10), (11, 20), (21, 30), (31, 40), (41, 50), (51, 60))   # source lengths, inclusive


def _by_kind(entries, kinds) -> dict[str, tuple]:
    return {k: tuple(x for x in entries if k in kinds(x)) for k in _ANY}


_NOUNS_BY_KIND = _by_kind(_NOUNS, lambda n: n.kind)
_PRE_BY_KIND = _by_kind(_PRE_ADJ, lambda a: a.kinds)
_POST_BY_KIND = _by_kind(_POST_ADJ, lambda a: a.kinds)
_VERBS_BY_SUBJ = _by_kind(_VERBS, lambda v: v.subj)
_VERBS_BY_OBJ = _by_kind([v for v in _VERBS if v.frame == "tr"], lambda v: v.obj)   # for object relatives
_DET_CUM = tuple(sum(_DET_WEIGHTS[:k + 1]) for k in range(len(_DET_WEIGHTS)))
_CONJ_CUM = tuple(sum(_CONJ_WEIGHTS[:k + 1]) for k in range(len(_CONJ_WEIGHTS)))
_TENSES = ("present", "past", "future", "prog", "pastprog", "can", "must")
_TENSE_CUM = (34, 60, 74, 83, 91, 96, 100)              # progressives and modals are rarer
# English words of a verb group without its adverb: "does not see", "will see", "cannot see", ...
_VERB_WORDS = {("present", ""): 1, ("present", "not"): 3, ("present", "never"): 2, ("past", ""): 1,
               ("past", "not"): 3, ("past", "never"): 2, ("future", ""): 2, ("future", "not"): 3,
               ("future", "never"): 3, ("prog", ""): 2, ("prog", "not"): 3, ("pastprog", ""): 2,
               ("pastprog", "not"): 3, ("can", ""): 2, ("can", "not"): 2,
               ("must", ""): 2}
_FAMILY = {"present": "r", "prog": "r", "can": "r", "must": "r", "past": "p", "pastprog": "p", "future": "f"}


def _pick(rng: random.Random, items: tuple, cum_weights: tuple):
    return items[bisect.bisect(cum_weights, rng.random() * cum_weights[-1])]


def _gen_np(rng: random.Random, kinds: str, r: float, depth: int, relative: bool,
            subject: bool = False) -> tuple[_NP, int]:
    """A noun phrase of one of `kinds`, and its English length; r in [0, 1] makes modifiers likelier."""
    kind = rng.choice(kinds)
    if kind == "P" and rng.random() < 0.15:
        if subject and rng.random() < 0.4:
            return _NP(word=rng.choice(_PRONOUNS)), 1
        return _NP(word=rng.choice(_NAMES)), 1
    noun = rng.choice(_NOUNS_BY_KIND[kind])
    det = _pick(rng, _DETS, _DET_CUM)
    plural = det.number == "pl" or (det.number == "any" and rng.random() < 0.35)
    n = len(det.en) + 1
    p_adj = 0.12 + 0.2 * r
    pre = post = pp = rc = None
    pre_very = post_very = False
    if rng.random() < p_adj * 0.6:
        pre, pre_very = rng.choice(_PRE_BY_KIND[kind]), rng.random() < 0.1
        n += 1 + pre_very
    if rng.random() < p_adj:
        post, post_very = rng.choice(_POST_BY_KIND[kind]), rng.random() < 0.1
        n += 1 + post_very
    if depth < 4 and rng.random() < (0.1 + 0.35 * r) / (1 + depth):
        prep = rng.choice(_NOMINAL_PREPS)
        obj, m = _gen_np(rng, prep.kinds, r * 0.5, depth + 1, relative=False)
        pp = _PP(prep, obj)
        n += len(prep.en) + m
    rel, orc = "that", None
    if relative and depth < 3 and rng.random() < (0.05 + 0.4 * r) / (1 + depth):
        rel = "who" if kind == "P" and rng.random() < 0.5 else "that"
        if rng.random() < 0.3:                      # "the car that the dogs saw": object relative
            verb = rng.choice(_VERBS_BY_OBJ[kind])
            subj, m = _gen_np(rng, verb.subj, r * 0.5, depth + 1, relative=True, subject=True)
            tense, neg, adv, k = _gen_tense(rng, verb)
            orc = _Clause(subj, _VP(verb, tense, neg, adv))
            n += 1 + m + k
        else:
            rc, m = _gen_vp(rng, rng.choice(_VERBS_BY_SUBJ[kind]), plural, r * 0.7, depth + 1)
            n += 1 + m
    return _NP(noun, plural, det, pre, pre_very, post, post_very, pp, rc, orc, rel), n


def _gen_tense(rng: random.Random, verb: _Verb) -> tuple[str, str, _Phrase | None, int]:
    """Tense, negation, pre-verbal adverb and the number of English words of the verb group."""
    tense = _pick(rng, _TENSES, _TENSE_CUM)
    if verb.stative and tense in ("prog", "pastprog"):
        tense = "present" if tense == "prog" else "past"
    neg, adv = "", None
    u = rng.random()
    if tense in ("present", "past", "future"):
        if u < 0.18:
            neg = "not"
        elif u < 0.25:
            neg = "never"
        elif u < 0.4:
            adv = rng.choice(_PRE_ADVERBS)
    elif tense in ("prog", "pastprog", "can"):
        neg = "not" if u < 0.2 else ""         # with can: one word, "cannot"
    return tense, neg, adv, _VERB_WORDS[tense, neg] + (adv is not None)


def _gen_vp(rng: random.Random, verb: _Verb, plural: bool, r: float, depth: int) -> tuple[_VP, int]:
    tense, neg, adv, n = _gen_tense(rng, verb)
    obj = rec = manner = pp = None
    if verb.frame == "tr":
        obj, m = _gen_np(rng, verb.obj, r, depth, relative=True)
        n += m
    elif verb.frame == "di":
        obj, m = _gen_np(rng, verb.obj, r * 0.6, depth, relative=True)
        rec, k = _gen_np(rng, verb.rec, r * 0.6, depth, relative=True)
        n += m + 1 + k
    else:
        if rng.random() < 0.3:
            manner = rng.choice(_MANNERS)
            n += len(manner.en)
        if rng.random() < 0.15 + 0.5 * r:
            prep = rng.choice(_VERBAL_PREPS)
            pp_obj, m = _gen_np(rng, prep.kinds, r * 0.6, depth + 1, relative=False)
            pp = _PP(prep, pp_obj)
            n += len(prep.en) + m
    return _VP(verb, tense, neg, adv, obj, rec, manner, pp), n


def _gen_clause(rng: random.Random, r: float) -> tuple[_Clause, int]:
    verb = rng.choice(_VERBS)
    subj, n = _gen_np(rng, verb.subj, r, 0, relative=True, subject=True)
    vp, m = _gen_vp(rng, verb, _plural(subj), r, 0)
    time = None
    if rng.random() < 0.15:
        family = _FAMILY[vp.tense]
        time = rng.choice([t for t in _TIMES if family in t.kinds])
        m += len(time.en)
    return _Clause(subj, vp, time), n + m


def _gen_sentence(rng: random.Random, lo: int, hi: int) -> _Sentence:
    """A sentence of lo..hi English words: clauses sized to the room left, joined until the length fits."""
    while True:
        target = rng.randint(lo, hi)
        clauses, conjs, n = [], [], 0
        while n < lo:
            conj = _pick(rng, _CONJS, _CONJ_CUM) if clauses else None
            extra = len(conj.en) if conj else 0
            room = target - n - extra
            if room < 2:
                break
            for _ in range(4):
                # richness: about 4 words per clause at r = 0, about 20 at r = 1
                clause, m = _gen_clause(rng, min(1.0, max(0.0, (min(room, rng.randint(6, 24)) - 4) / 16)))
                if n + extra + m <= hi:
                    break
            else:
                break
            clauses.append(clause)
            if conj:
                conjs.append(conj)
            n += extra + m
        if lo <= n <= hi:
            return _Sentence(tuple(clauses), tuple(conjs))


def _check_lengths(min_len: int, max_len: int) -> None:
    if not 2 <= min_len <= max_len:
        raise DataError(f"sentence lengths {min_len}..{max_len} are impossible; the shortest sentence has 2 words "
                        "and min_len must not exceed max_len")


def sample_pair(rng: random.Random, min_len: int = 3, max_len: int = 30) -> Pair:
    """One random pair whose English side has min_len..max_len words; lengths spread evenly over that range."""
    _check_lengths(min_len, max_len)
    target = rng.randint(min_len, max_len)
    return _render(_gen_sentence(rng, max(min_len, target - 2), min(max_len, target + 2)))


def _distinct(rng: random.Random, n: int, min_len: int, max_len: int, seen: set) -> list[Pair]:
    out = []
    repeats = 0                 # draws in a row that gave a sentence already taken
    while len(out) < n:
        pair = sample_pair(rng, min_len, max_len)
        if pair.src not in seen:
            seen.add(pair.src)
            out.append(pair)
            repeats = 0
        elif (repeats := repeats + 1) > 1000:
            raise DataError(f"could not find {n:,} distinct sentences of {min_len}..{max_len} words; "
                            "ask for fewer or allow longer sentences")
    return out


def corpus(seed: int, n: int, min_len: int = 3, max_len: int = 30, exclude: frozenset = frozenset()) -> list[Pair]:
    """n pairs with distinct English sides, none of them in `exclude`; the same seed gives the same list."""
    return _distinct(random.Random(seed), n, min_len, max_len, set(exclude))


def test_set(seed: int, per_bucket: int, buckets=BUCKETS) -> list[Pair]:
    """per_bucket distinct pairs for each (lo, hi) source-length bucket, in bucket order."""
    rng, seen, out = random.Random(seed), set(), []
    for lo, hi in buckets:
        out += _distinct(rng, per_bucket, max(lo, 2), hi, seen)
    return out
