"""engine.data.grammar: the seeded English-French corpus, its French agreement and its gold alignments."""
import random
import statistics

import pytest

from engine.data import DataError, grammar
from engine.data.grammar import BUCKETS, MAX_CHARS, Pair, corpus, read_english, sample_pair, suggest, translate


@pytest.fixture(scope="module")
def pairs() -> list[Pair]:
    """2,000 pairs of 3..60 English words: long enough to reach every word, relative clause and conjunction."""
    return corpus(0, 2000, max_len=60)


def fr(english: str) -> str:
    pair = translate(tuple(english.split()))
    assert pair is not None, english
    return " ".join(pair.tgt)


# ---- determinism -------------------------------------------------------------------------------------------


def test_same_seed_same_corpus_other_seed_other_corpus():
    assert corpus(3, 300) == corpus(3, 300)
    assert corpus(3, 300) != corpus(4, 300)
    assert corpus(3, 300)[:100] == corpus(3, 100)             # asking for more extends the same list
    assert grammar.test_set(5, 10) == grammar.test_set(5, 10) != grammar.test_set(6, 10)


def test_generation_leaves_the_global_random_state_alone():
    random.seed(123)
    expected = random.random()
    random.seed(123)
    corpus(0, 50)
    sample_pair(random.Random(1))
    assert random.random() == expected


def test_sample_pair_follows_its_rng():
    a, b = random.Random(9), random.Random(9)
    assert [sample_pair(a) for _ in range(20)] == [sample_pair(b) for _ in range(20)]


# ---- vocabularies ------------------------------------------------------------------------------------------


def test_vocabularies_are_sorted_lowercase_words_without_specials():
    en, fr_words = grammar.english_vocab(), grammar.french_vocab()
    assert len(en) >= 300 and len(fr_words) >= 300
    for vocab in (en, fr_words):
        assert list(vocab) == sorted(set(vocab))
        assert not {grammar.BOS, grammar.EOS, grammar.PAD, grammar.UNK} & set(vocab)
        assert all(w == w.lower() and w.strip(".,!?;:\"") == w and " " not in w for w in vocab)
    assert {"cat", "cats", "red", "saw", "in", "front", "of", "an", "not", "that", "who"} <= set(en)
    assert {"du", "aux", "n'", "d'", "qu'", "vu", "vertes", "nouvelle"} <= set(fr_words)


def test_vocabularies_hold_the_corpus_words_and_little_else(pairs):
    """Every corpus word has an id, and hardly any id is dead weight in the embedding tables (the rarest French
    words are participles agreeing with an object relative: "la voiture que les chiens ont vue")."""
    assert {w for p in pairs for w in p.src} == set(grammar.english_vocab())
    french = {w for p in pairs for w in p.tgt}
    assert french <= set(grammar.french_vocab())
    assert len(french) >= 0.95 * len(grammar.french_vocab())


def test_nouns_of_both_genders():
    nouns = grammar._NOUNS
    assert sum(not n.fem for n in nouns) >= 60 and sum(n.fem for n in nouns) >= 60
    assert len({n.en for n in nouns}) == len(nouns)
    # no le/la elision can arise: every noun and every adjective placed before a noun starts with a consonant
    assert not [n.fr[0] for n in nouns if n.fr[0][0] in grammar._VOWELS]
    assert not [a.en for a in grammar._PRE_ADJ if a.forms[0][0][0] in grammar._VOWELS]


def test_word_classes_do_not_share_english_words():
    """A word with two classes could give one sentence two translations."""
    classes = [{w for n in grammar._NOUNS for w in n.en}, {a.en for a in grammar._ADJECTIVES},
               {w for v in grammar._VERBS for w in v.en}, {p.en for p in grammar._NAMES + grammar._PRONOUNS},
               {w for d in grammar._DETS for w in d.en} | {"an"}]
    for i, a in enumerate(classes):
        for b in classes[i + 1:]:
            assert not a & b


# ---- French agreement and word order -----------------------------------------------------------------------


def test_post_nominal_adjectives_follow_the_noun_and_agree():
    assert fr("the red car moves") == "la voiture rouge bouge"
    assert fr("the green cars move") == "les voitures vertes bougent"
    assert fr("a green table moves") == "une table verte bouge"
    assert fr("the green dogs sleep") == "les chiens verts dorment"
    assert fr("the white houses disappear") == "les maisons blanches disparaissent"
    assert translate(tuple("the red car moves".split())).links == ((0, 0), (1, 2), (2, 1), (3, 3))


def test_pre_nominal_adjectives_stay_in_front_with_feminine_forms():
    assert fr("the old car moves") == "la vieille voiture bouge"
    assert fr("the new houses disappear") == "les nouvelles maisons disparaissent"
    assert fr("a beautiful lamp moves") == "une belle lampe bouge"
    assert fr("the big red car moves") == "la grande voiture rouge bouge"
    assert fr("the very small dogs sleep") == "les très petits chiens dorment"
    assert fr("some big dogs sleep") == "de grands chiens dorment"          # des -> de before an adjective


def test_verbs_agree_with_their_subject_including_through_relative_clauses():
    assert fr("the cat sees the dog") == "le chat voit le chien"
    assert fr("the cats see the dog") == "les chats voient le chien"
    assert fr("the cats saw the dog") == "les chats ont vu le chien"
    assert fr("the dogs that see the red car sleep") == "les chiens qui voient la voiture rouge dorment"
    assert fr("they will see the dog") == "ils verront le chien"
    assert fr("the girls are sleeping") == "les filles dorment"
    assert translate(("the", "cats", "sees", "the", "dog")) is None         # English agreement is checked too
    assert translate(("a", "owl", "sleeps")) is None and fr("an owl sleeps") == "une chouette dort"


def test_did_not_see_is_a_many_to_many_link():
    pair = translate(tuple("the cat did not see the dog".split()))
    assert pair.tgt == ("le", "chat", "n'", "a", "pas", "vu", "le", "chien")
    assert pair.links == ((0, 0), (1, 1), (2, 3), (3, 2), (3, 4), (4, 5), (5, 6), (6, 7))
    assert fr("the cats did not see the dog") == "les chats n' ont pas vu le chien"


def test_negation_adverbs_and_partitive_de():
    assert fr("the cat does not see a dog") == "le chat ne voit pas de chien"
    assert fr("the cats never eat some apples") == "les chats ne mangent jamais de pommes"
    assert fr("the cat often saw the dog") == "le chat a souvent vu le chien"
    assert fr("the parrots swam a lot") == "les perroquets ont beaucoup nagé"
    assert fr("she cannot see a dog") == "elle ne peut pas voir de chien"


def test_object_relatives_make_the_participle_agree_and_past_progressive_is_imparfait():
    assert fr("the car that the dogs saw moves") == "la voiture que les chiens ont vue bouge"
    assert fr("the cars that he did not see disappeared") == "les voitures qu' il n' a pas vues ont disparu"
    assert fr("the books that john took moved") == "les livres que jean a pris ont bougé"
    assert fr("the dogs were sleeping") == "les chiens dormaient"
    assert fr("the old woman did not see the red car that the two small dogs were watching") == (
        "la vieille femme n' a pas vu la voiture rouge que les deux petits chiens regardaient")
    assert translate(tuple("the dog was seeing the cat".split())) is None      # no progressive of "see"


def test_multiword_prepositions_contractions_and_elisions():
    pair = translate(tuple("the dog sleeps in front of the house".split()))
    assert pair.tgt[3] == "devant" and {(3, 3), (4, 3), (5, 3)} <= set(pair.links)
    assert fr("the dog sleeps next to the dogs") == "le chien dort à côté des chiens"
    assert fr("the dog sleeps near a car") == "le chien dort près d' une voiture"
    assert fr("she gives a cake to the dog") == "elle donne un gâteau au chien"
    assert fr("the hat of the king moves because a cat sleeps") == "le chapeau du roi bouge parce qu' un chat dort"
    pair = translate(tuple("the dog sleeps next to the car".split()))     # "du"/"de la": "to" -> "de"
    assert pair.tgt == ("le", "chien", "dort", "à", "côté", "de", "la", "voiture")
    assert {(3, 3), (3, 4), (4, 5)} <= set(pair.links)


def test_french_spelling_is_consistent_across_the_corpus(pairs):
    for p in pairs:
        for a, b in zip(p.tgt, p.tgt[1:]):
            assert not (a in ("le", "la", "de", "ne", "que", "ce") and b[0] in grammar._VOWELS), p.tgt
            assert (a, b) not in grammar._CONTRACT, p.tgt
            assert not (a in ("n'", "d'", "qu'") and b[0] not in grammar._VOWELS), p.tgt


# ---- gold alignments ---------------------------------------------------------------------------------------


def test_links_are_sorted_unique_in_range_and_cover_both_sides(pairs):
    for p in pairs:
        assert list(p.links) == sorted(set(p.links))
        assert all(0 <= i < len(p.src) and 0 <= j < len(p.tgt) for i, j in p.links)
        assert {i for i, _ in p.links} == set(range(len(p.src)))
        assert {j for _, j in p.links} == set(range(len(p.tgt)))


def test_translation_is_a_function_of_the_english(pairs):
    """Parsing the English back gives the same pair, from exactly one parse."""
    for p in pairs[:600]:
        assert len(grammar._parses(p.src)) == 1, p.src
        assert translate(p.src) == p
    assert translate(("sleeps", "the", "cat")) is None and translate(()) is None


# ---- lengths -----------------------------------------------------------------------------------------------


def test_corpus_lengths_stay_in_range_and_spread_out():
    lengths = [len(p.src) for p in corpus(1, 1500)]
    assert min(lengths) >= 3 and max(lengths) <= 30
    assert set(range(3, 31)) <= set(lengths)
    assert 13 <= statistics.mean(lengths) <= 20                  # not all short: near the middle of 3..30


def test_test_set_fills_every_bucket_in_order():
    pairs = grammar.test_set(0, 15)
    assert len(pairs) == 15 * len(BUCKETS)
    for k, (lo, hi) in enumerate(BUCKETS):
        assert all(lo <= len(p.src) <= hi for p in pairs[15 * k:15 * (k + 1)])
    assert len({p.src for p in pairs}) == len(pairs)


def test_long_sentences_can_be_generated():
    rng = random.Random(0)
    assert all(51 <= len(sample_pair(rng, 51, 60).src) <= 60 for _ in range(20))
    long = [sample_pair(rng, 60, 80) for _ in range(10)]
    assert all(60 <= len(p.src) <= 80 for p in long)
    assert all(translate(p.src) == p for p in long)


def test_corpus_is_distinct_and_respects_exclude():
    held_out = grammar.test_set(1, 20, buckets=((3, 10), (11, 30)))
    exclude = frozenset(p.src for p in held_out)
    train = corpus(1, 1000, exclude=exclude)
    assert len({p.src for p in train}) == 1000
    assert not exclude & {p.src for p in train}
    assert corpus(1, 200, exclude=frozenset(p.src for p in corpus(1, 100)))[0].src not in {
        p.src for p in corpus(1, 100)}


def test_impossible_requests_raise_data_error(monkeypatch):
    with pytest.raises(DataError, match="impossible"):
        sample_pair(random.Random(0), 10, 5)
    with pytest.raises(DataError, match="impossible"):
        corpus(0, 10, min_len=1, max_len=1)
    only = translate(("john", "sleeps"))
    monkeypatch.setattr(grammar.generate, "sample_pair", lambda rng, lo, hi: only)   # a world of one sentence
    with pytest.raises(DataError, match="2 distinct sentences"):
        corpus(0, 2)


# ---- user text ---------------------------------------------------------------------------------------------


def test_read_english_lowercases_strips_punctuation_and_reports_unknown_words():
    tokens, unknown = read_english('  The RED car, "next" to the house!  ')
    assert tokens == ("the", "red", "car", "next", "to", "the", "house") and unknown == []
    tokens, unknown = read_english("The zebra didn't see the zebra; a kangaroo?")
    assert tokens == ("the", "zebra", "did", "not", "see", "the", "zebra", "a", "kangaroo")
    assert unknown == ["zebra", "kangaroo"]
    assert translate(read_english("The cat didn't see the dog.")[0]) is not None


def test_read_english_refuses_empty_and_overlong_text():
    for empty in ("", "   ", "?!. ,"):
        with pytest.raises(DataError, match="no words"):
            read_english(empty)
    with pytest.raises(DataError, match=f"is {MAX_CHARS + 1} characters; the limit is {MAX_CHARS}"):
        read_english("a" * (MAX_CHARS + 1))
    read_english("the cat sleeps " + "x" * (MAX_CHARS - 15))     # exactly at the limit is fine


def test_suggest_finds_near_spellings():
    assert "cat" in suggest("cta")
    assert suggest("hoose")[0] == "house"
    assert len(suggest("a", k=2)) <= 2
    assert suggest("xqzvw") == []
