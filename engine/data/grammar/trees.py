"""Syntax trees: the noun phrases, verb phrases, clauses and sentences that generation builds and parsing reads."""
from dataclasses import dataclass

from engine.data.grammar.lexicon import _Adj, _Det, _Noun, _Phrase, _Proper, _Verb


@dataclass(frozen=True)
class _NP:
    noun: _Noun | None = None
    plural: bool = False
    det: _Det | None = None
    pre: _Adj | None = None
    pre_very: bool = False
    post: _Adj | None = None
    post_very: bool = False
    pp: "_PP | None" = None
    rc: "_VP | None" = None             # subject relative: rel + a verb phrase whose subject is this noun phrase
    orc: "_Clause | None" = None        # object relative: rel + subject + a transitive verb group, its object this
    rel: str = "that"
    word: _Proper | None = None         # a name or pronoun instead of determiner + noun


@dataclass(frozen=True)
class _PP:
    prep: _Phrase
    np: _NP


@dataclass(frozen=True)
class _VP:
    verb: _Verb
    tense: str                          # "present", "past", "future", "prog", "pastprog", "can", "must"
    neg: str = ""                       # "", "not" ("cannot" with can) or "never"
    adv: _Phrase | None = None          # often, always, ...
    obj: _NP | None = None
    rec: _NP | None = None              # recipient after "to"
    manner: _Phrase | None = None
    pp: _PP | None = None


@dataclass(frozen=True)
class _Clause:
    subj: _NP
    vp: _VP
    time: _Phrase | None = None


@dataclass(frozen=True)
class _Sentence:
    clauses: tuple[_Clause, ...]
    conjs: tuple[_Phrase, ...]          # one fewer than clauses


def _plural(np: _NP) -> bool:
    return np.word.plural if np.word else np.plural
