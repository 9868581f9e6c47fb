"""Rendering: a syntax tree -> its English words, its French words and the links between them (a Pair)."""
from dataclasses import dataclass

from engine.data.grammar.lexicon import _A, _CONTRACT, _ELIDE, _SOME, _TO, _VOWELS, _Phrase
from engine.data.grammar.trees import _NP, _VP, _plural, _Sentence


@dataclass(frozen=True)
class Pair:
    src: tuple[str, ...]                 # English tokens
    tgt: tuple[str, ...]                 # French tokens
    links: tuple[tuple[int, int], ...]   # (src index, tgt index), sorted; every token of both sides is covered


class _English:
    """The English words emitted so far; French fragments refer to their positions."""

    def __init__(self):
        self.words: list[str] = []

    def add(self, *words: str) -> int:
        self.words.extend(words)
        return len(self.words) - len(words)

    def phrase(self, ph: _Phrase) -> list:
        start = self.add(*ph.en)
        return [(w, tuple(start + i for i in src)) for w, src in zip(ph.fr, ph.src_of)]


def _first_word(np: _NP) -> str:
    """The English word after the determiner (it decides between "a" and "an")."""
    if np.pre:
        return "very" if np.pre_very else np.pre.en
    if np.post:
        return "very" if np.post_very else np.post.en
    return np.noun.en[np.plural]


def _np_fr(e: _English, np: _NP, negated: bool = False) -> list:
    """French (word, English positions) list for a noun phrase; negated: the object of a negated verb."""
    if np.word:
        return [(np.word.fr, (e.add(np.word.en),))]
    form = 2 * np.plural + np.noun.fem
    det = np.det
    en = ("an",) if det is _A and _first_word(np)[0] in "aeiou" else det.en
    start = e.add(*en)
    if det.indef and (negated or (det is _SOME and np.pre)):
        out = [("de", tuple(range(start, start + len(en))))]
    else:
        out = [(w, tuple(start + i for i in src)) for w, src in zip(det.forms[form], det.src_of)]
    after = []
    for adj, very, dest in ((np.pre, np.pre_very, out), (np.post, np.post_very, after)):
        if adj:
            if very:
                dest.append(("très", (e.add("very"),)))
            i = e.add(adj.en)
            dest.extend((w, (i,)) for w in adj.forms[form])
    out.append((np.noun.fr[np.plural], (e.add(np.noun.en[np.plural]),)))
    out += after
    if np.pp:
        out += e.phrase(np.pp.prep) + _np_fr(e, np.pp.np)
    if np.rc:
        out.append(("qui", (e.add(np.rel),)))
        out += _vp_fr(e, np.rc, np.plural)
    if np.orc:
        out.append(("que", (e.add(np.rel),)))
        out += _np_fr(e, np.orc.subj)
        out += _verb_fr(e, np.orc.vp, _plural(np.orc.subj), agree=(np.noun.fem, np.plural))
    return out


def _verb_fr(e: _English, vp: _VP, plural: bool, agree: tuple[bool, bool] | None = None) -> list:
    """The verb group: tense, negation and pre-verbal adverb, English words emitted in English order. agree: (feminine,
    plural) of a direct object placed before the verb, which a past participle agrees with."""
    v, neg = vp.verb, vp.neg
    pp = v.participle(*agree) if agree else v.fr[2]
    fr3 = v.fr[1] if plural else v.fr[0]
    if vp.tense == "present":
        if neg == "not":
            do = e.add("do" if plural else "does", "not", v.en[1])
            return [("ne", (do + 1,)), (fr3, (do, do + 2)), ("pas", (do + 1,))]
        if neg == "never":
            nv = e.add("never", v.en[1] if plural else v.en[0])
            return [("ne", (nv,)), (fr3, (nv + 1,)), ("jamais", (nv,))]
        adv = e.phrase(vp.adv) if vp.adv else []
        return [(fr3, (e.add(v.en[1] if plural else v.en[0]),))] + adv
    if vp.tense == "past":
        aux = "ont" if plural else "a"
        if neg == "not":
            did = e.add("did", "not", v.en[1])
            return [("ne", (did + 1,)), (aux, (did,)), ("pas", (did + 1,)), (pp, (did + 2,))]
        if neg == "never":
            nv = e.add("never", v.en[2])
            return [("ne", (nv,)), (aux, (nv + 1,)), ("jamais", (nv,)), (pp, (nv + 1,))]
        adv = e.phrase(vp.adv) if vp.adv else []
        w = e.add(v.en[2])
        return [(aux, (w,))] + adv + [(pp, (w,))]
    if vp.tense == "future":
        fut = v.fr[4] if plural else v.fr[3]
        will = e.add("will")
        if neg:
            nt = e.add(neg)
            w = e.add(v.en[1])
            return [("ne", (nt,)), (fut, (will, w)), ("pas" if neg == "not" else "jamais", (nt,))]
        adv = e.phrase(vp.adv) if vp.adv else []
        return [(fut, (will, e.add(v.en[1])))] + adv
    if vp.tense in ("prog", "pastprog"):           # "is sleeping" -> "dort", "were sleeping" -> "dormaient"
        if vp.tense == "prog":
            be, form = e.add("are" if plural else "is"), fr3
        else:
            be, form = e.add("were" if plural else "was"), v.imperfect_form(plural)
        if neg:
            nt = e.add("not")
            w = e.add(v.en[3])
            return [("ne", (nt,)), (form, (be, w)), ("pas", (nt,))]
        return [(form, (be, e.add(v.en[3])))]
    modal = ("peuvent" if plural else "peut") if vp.tense == "can" else ("doivent" if plural else "doit")
    if neg:                                      # "cannot" -> "ne peut pas"
        m = e.add("cannot")
        return [("ne", (m,)), (modal, (m,)), ("pas", (m,)), (v.fr[5], (e.add(v.en[1]),))]
    m = e.add(vp.tense)
    return [(modal, (m,)), (v.fr[5], (e.add(v.en[1]),))]


def _vp_fr(e: _English, vp: _VP, plural: bool) -> list:
    out = _verb_fr(e, vp, plural)
    if vp.obj:
        out += _np_fr(e, vp.obj, negated=bool(vp.neg))
    if vp.rec:
        out += e.phrase(_TO) + _np_fr(e, vp.rec)
    if vp.manner:
        manner = e.phrase(vp.manner)
        if vp.manner.kinds == "short" and vp.tense in ("past", "can", "must"):
            out[-1:-1] = manner                  # the verb group ends with the participle or the infinitive
        else:
            out += manner
    if vp.pp:
        out += e.phrase(vp.pp.prep) + _np_fr(e, vp.pp.np)
    return out


def _render(s: _Sentence) -> Pair:
    e = _English()
    frag = []
    for k, clause in enumerate(s.clauses):
        if k:
            frag += e.phrase(s.conjs[k - 1])
        frag += _np_fr(e, clause.subj)
        frag += _vp_fr(e, clause.vp, _plural(clause.subj))
        if clause.time:
            frag += e.phrase(clause.time)
    words, srcs = [], []
    for w, src in frag:
        if words and (words[-1], w) in _CONTRACT:         # de le -> du: one token translating both
            words[-1] = _CONTRACT[words[-1], w]
            srcs[-1] = srcs[-1] + src
        else:
            words.append(w)
            srcs.append(src)
    for k in range(len(words) - 1):
        if words[k] in _ELIDE and words[k + 1][0] in _VOWELS:
            words[k] = _ELIDE[words[k]]
    links = sorted({(i, j) for j, src in enumerate(srcs) for i in src})
    return Pair(tuple(e.words), tuple(words), tuple(links))
