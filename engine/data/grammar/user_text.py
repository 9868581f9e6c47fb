"""Typed English: its tokens, the words among them the grammar does not know, and known words spelled like them."""
import difflib
import re

from engine.data import DataError
from engine.data.grammar.vocab import english_vocab

MAX_CHARS = 400                                          # longest text read_english accepts

_CONTRACTIONS = {"don't": "do not", "doesn't": "does not", "didn't": "did not", "won't": "will not",
                 "can't": "cannot", "isn't": "is not", "aren't": "are not"}
_QUOTES = "\"'“”‘’`«»"


def read_english(text: str) -> tuple[tuple[str, ...], list[str]]:
    """Tokens of a typed sentence (lower case, punctuation dropped, "don't" read as "do not") and the words among them
    that the grammar does not know, each once, in order of appearance."""
    if len(text) > MAX_CHARS:
        raise DataError(f"The text is {len(text)} characters; the limit is {MAX_CHARS}.")
    tokens = []
    for word in re.sub(r"[.,!?;:]", " ", text.lower().replace("’", "'")).split():
        word = word.strip(_QUOTES)
        tokens += _CONTRACTIONS.get(word, word).split()
    if not tokens:
        raise DataError("The text has no words; type an English sentence such as \"the red car is next to the "
                        "house\".")
    known = set(english_vocab())
    unknown = list(dict.fromkeys(t for t in tokens if t not in known))
    return tuple(tokens), unknown


def suggest(word: str, k: int = 3) -> list[str]:
    """Up to k known English words spelled like `word`, closest first."""
    return difflib.get_close_matches(word.lower(), english_vocab(), n=k, cutoff=0.6)
