"""A seeded English-to-French grammar whose sentence pairs carry gold word alignments.

Bahdanau, Cho & Bengio (2014), "Neural Machine Translation by Jointly Learning to Align and Translate",
arXiv:1409.0473, compare RNNsearch, whose decoder builds each French word from its own soft alignment
alpha_ij = softmax_j(e_ij) over the English words, with RNNenc, which squeezes the whole source into one vector.
This grammar gives both a small world in which they train in minutes, and it knows, for every pair, which English
words each French word translates: every grammar node emits its English words, its French words and the links between
them. The links score the attention with the alignment error rate (Och & Ney 2003) without any human annotation.

What the French side asks of a model:
- reordering: colour, shape, nationality and mood adjectives follow the noun ("the red car" -> "la voiture rouge");
  big, small, good, new, old, ... stay in front ("the old car" -> "la vieille voiture"); "often sees" -> "voit
  souvent"; "often saw" -> "a souvent vu";
- agreement: le/la/les, un/une, adjectives in four forms (vert verte verts vertes), verbs in the number of their
  subject, also inside relative clauses ("the dogs that see" -> "les chiens qui voient"), and a past participle with
  the object relative it follows ("the cars that the dog saw" -> "les voitures que le chien a vues");
- one-to-many and many-to-many links: "saw" -> "a vu", "did not see" -> "n'a pas vu", "in front of" -> "devant",
  "next to the dog" -> "à côté du chien", "is sleeping" -> "dort", "were sleeping" -> "dormaient",
  "does not see a cat" -> "ne voit pas de chat";
- contractions and elisions, each elided word its own token: de + le -> du, à + les -> aux, "n'", "d'", "qu'" before
  a vowel. Every noun and every adjective that can precede a noun starts with a consonant, so le/la never elide;
- nesting: a noun phrase takes a prepositional phrase and a subject or object relative clause, whose own noun
  phrases take theirs, and clauses join with conjunctions, so sources run from 2 words to 80 and more.

The French is a function of the English alone: `translate` parses a token sequence under the grammar and renders the
same pair that generation produced. Generation draws only from the caller's `random.Random`.

The package, one job a module, each importing only the ones before it: lexicon (the words), trees (syntax trees),
render (tree -> pair), parse (tokens -> trees), generate (random trees -> pairs), vocab (word lists and word classes)
and user_text (typed English).
"""
from engine.data.grammar.generate import BUCKETS, corpus, sample_pair, test_set

# the `_NAME as _NAME` imports keep internals the tests inspect reachable as grammar._NAME
from engine.data.grammar.lexicon import _ADJECTIVES as _ADJECTIVES
from engine.data.grammar.lexicon import _CONTRACT as _CONTRACT
from engine.data.grammar.lexicon import _DETS as _DETS
from engine.data.grammar.lexicon import _NAMES as _NAMES
from engine.data.grammar.lexicon import _NOUNS as _NOUNS
from engine.data.grammar.lexicon import _PRE_ADJ as _PRE_ADJ
from engine.data.grammar.lexicon import _PRONOUNS as _PRONOUNS
from engine.data.grammar.lexicon import _VERBS as _VERBS
from engine.data.grammar.lexicon import _VOWELS as _VOWELS
from engine.data.grammar.parse import _parses as _parses
from engine.data.grammar.parse import translate
from engine.data.grammar.render import Pair
from engine.data.grammar.user_text import MAX_CHARS, read_english, suggest
from engine.data.grammar.vocab import BOS, EOS, PAD, UNK, english_vocab, french_vocab, word_classes

__all__ = ["BOS", "BUCKETS", "EOS", "MAX_CHARS", "PAD", "UNK", "Pair", "corpus", "english_vocab", "french_vocab",
           "read_english", "sample_pair", "suggest", "test_set", "translate", "word_classes"]
