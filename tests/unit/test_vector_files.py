"""Uploaded vector files: the Projector's TSV pair and word2vec text, read back exactly or refused with a message."""
import numpy as np
import pytest

from engine.data import DataError
from engine.data import vectors as files


def test_a_projector_pair_with_a_header_round_trips():
    vec = b"0.5\t1\t-2\n3\t4e-3\t5\n"
    meta = b"word\tclass\nred\tcolour\ncar\tnoun\n"
    read = files.read_projector(vec, meta)
    assert read.words == ["red", "car"] and list(read.metadata.columns) == ["word", "class"]
    np.testing.assert_allclose(read.matrix, [[0.5, 1, -2], [3, 0.004, 5]])
    again = files.read_projector(*files.to_projector(read))
    assert again.words == read.words and again.metadata.equals(read.metadata)
    np.testing.assert_allclose(again.matrix, read.matrix, rtol=1e-6)


def test_single_column_metadata_has_no_header_and_no_metadata_numbers_the_points():
    read = files.read_projector(b"1\t2\n3\t4\n", b"a\nb\n")
    assert read.words == ["a", "b"]
    assert files.to_projector(read)[1] == b"a\nb\n"
    assert files.read_projector(b"1\t2\n3\t4\n").words == ["0", "1"]


def test_word2vec_text_with_and_without_its_count_line():
    for text in [b"2 3\nking 1 2 3\nqueen 4 5 6\n", b"king 1 2 3\r\nqueen 4 5 6\r\n"]:
        read = files.read_word_vectors(text)
        assert read.words == ["king", "queen"] and read.matrix.shape == (2, 3)


@pytest.mark.parametrize("vec, meta, message", [
    (b"", None, "vectors.tsv is empty"),
    (b"1\t2\n3\n", None, "line 2 has 1 values, line 1 has 2"),
    (b"1\t2\n3\tx\n", None, "line 2 has 'x', which is not a number"),
    (b"1\tnan\n", None, "infinite or missing"),
    (b"1\t2\n3\t4\n", b"a\n", "metadata.tsv has 1 rows of labels but vectors.tsv has 2"),
    (b"1\t2\n3\t4\n", b"w\tc\na\tx\nb\n", "line 3 has 1 columns, the header has 2"),
    (b"1\t2\n", b"\xff\xfe\x00", "not UTF-8"),
    (b"\x00" * (files.MAX_UPLOAD_BYTES + 1), None, "the limit is 50 MB"),
])
def test_malformed_projector_files_get_a_message(vec, meta, message):
    with pytest.raises(DataError, match=message):
        files.read_projector(vec, meta)


@pytest.mark.parametrize("text, message", [
    (b"king 1 2\nking 3 4\n", "gives 'king' twice"),
    (b"king 1 2\nqueen 3\n", "line 2 has 1 values"),
    (b"   \n", "no rows of numbers"),
])
def test_malformed_word_vectors_get_a_message(text, message):
    with pytest.raises(DataError, match=message):
        files.read_word_vectors(text)
