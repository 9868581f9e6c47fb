"""Word-vector arithmetic on a hand-made space where the answers are known."""
import math

import numpy as np
import pytest

from engine.analysis import word_space

# king/queen and man/woman differ by the same "female" step; the royal words sit apart from the common ones.
WORDS = ["man", "woman", "king", "queen", "apple"]
VECTORS = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 0.0, 2.0], [1.0, 1.0, 2.0], [0.0, 0.0, -1.0]])


@pytest.fixture
def space():
    return word_space.Space.of(WORDS, VECTORS)


def test_rows_are_unit_length_and_zero_rows_stay_zero():
    s = word_space.Space.of(["a", "b"], np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(s.unit, [[0.6, 0.8], [0.0, 0.0]])


def test_neighbours_leave_the_word_out_and_come_best_first(space):
    found = word_space.neighbours(space, "king", 3)
    assert [w for w, _ in found] == ["queen", "man", "woman"]
    assert found[0][1] > found[1][1] > found[2][1]
    assert math.isclose(found[1][1], 1 / math.sqrt(5), rel_tol=1e-6)


def test_king_minus_man_plus_woman_is_queen(space):
    assert word_space.analogy(space, "man", "king", "woman", k=1)[0][0] == "queen"
    assert word_space.analogy(space, "man", "woman", "king", k=1)[0][0] == "queen"


def test_the_analogy_can_be_limited_to_the_first_words(space):
    found = word_space.analogy(space, "man", "king", "woman", k=5, limit=3)
    assert [w for w, _ in found] == []                  # man, king, woman are the first three: nothing else is left


def test_a_direction_orders_the_words_along_it(space):
    axis = word_space.direction(space, ["man"], ["woman"])
    pos = dict(word_space.along(space, axis, WORDS))
    assert pos["woman"] > pos["man"] and pos["queen"] > pos["king"]
    with pytest.raises(ValueError):
        word_space.direction(space, ["man"], ["man"])


def test_the_analogy_benchmark_counts_right_covered_and_by_section(space):
    sections = word_space.read_questions(": family\nman king woman queen\nman woman king queen\nman king woman apple\n"
                                      ": missing\nman king boy girl\n")
    result = word_space.analogy_benchmark(space, sections, limit=5)
    assert result["by_section"]["family"] == {"accuracy": 2 / 3, "covered": 3, "questions": 3}
    assert result["by_section"]["missing"]["covered"] == 0
    assert result["analogy_accuracy"] == 2 / 3 and result["analogy_coverage"] == 3 / 4


def test_the_similarity_benchmark_skips_unknown_pairs(space):
    pairs = [("king", "queen", 9.0), ("man", "woman", 8.0), ("king", "apple", 1.0), ("cat", "dog", 7.0)]
    result = word_space.similarity_benchmark(space, pairs)
    assert result["pairs_covered"] == 3 and result["pairs"] == 4
    assert result["spearman"] == pytest.approx(1.0)


def test_knn_accuracy_on_separated_and_mixed_labels():
    from engine.analysis.representations import knn_accuracy

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 20)
    separated = np.eye(3)[labels] + 0.05 * rng.standard_normal((60, 3))
    assert knn_accuracy(separated, labels, k=5) == 1.0
    shuffled = rng.permutation(labels)
    assert knn_accuracy(separated, shuffled, k=5) < 0.6


def test_language_model_windows_start_with_padding_and_drop_rare_words():
    from engine.models import embeddings

    config = embeddings.WordVecConfig(context=2, min_count=2)
    c = embeddings.build_corpus([["the", "cat", "sat"], ["the", "cat", "ran"]], config)
    assert c.vocab == ["<s>", "<unk>", "cat", "the"]                       # commonest first, ties by spelling
    assert c.contexts[:3].tolist() == [[0, 0], [0, 3], [3, 2]] and c.targets[:3].tolist() == [3, 2, 1]


def test_class_purity_counts_neighbours_of_the_same_class():
    from engine.models.embeddings import class_purity

    words = ["red", "blue", "green", "cat", "dog", "cow"]
    grid = np.array([[1, 0.1], [1, 0.2], [1, 0.3], [0.1, 1], [0.2, 1], [0.3, 1]])
    space = word_space.Space.of(words, grid)
    classes = {w: ("colour" if i < 3 else "animal") for i, w in enumerate(words)}
    assert class_purity(space, classes, k=2) == 1.0
    mixed = {w: ("colour" if i % 2 else "animal") for i, w in enumerate(words)}
    assert class_purity(space, mixed, k=2) < 0.5
