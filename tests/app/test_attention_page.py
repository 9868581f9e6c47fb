"""The attention page through Streamlit's AppTest on the tiny checkpoint."""
import pytest

from engine.data import grammar
from engine.models import seq2seq
from tests.app.helpers import run_page, texts

pytestmark = pytest.mark.usefixtures("tiny_env")


def vega_count(at) -> int:
    return len(at.get("vega_lite_chart"))


def a_sentence() -> str:
    return " ".join(grammar.corpus(7, 1, min_len=6, max_len=9)[0].src)


def test_a_test_sentence_is_translated_by_both_models_with_its_alignment():
    at = run_page("pages/attention.py")
    assert not at.exception
    text = texts(at.markdown)
    assert "RNNsearch (attention)" in text and "RNNenc (fixed vector)" in text
    assert "Reference (the grammar's translation)" in text
    assert vega_count(at) >= 3                      # alignment matrix, attention bars, BLEU by length
    assert "Paper vs. you" in [h.value for h in at.subheader]
    assert "21.5" in text and "13.93" in text       # the paper's RNNsearch-30 and RNNenc-30 BLEU


def test_stepping_the_decoder_moves_the_bars_and_the_url():
    at = run_page("pages/attention.py", beam=1)
    slider = at.slider(key="attention:word")
    assert slider.value == 1 and "Word 1 of" in texts(at.caption)
    slider.set_value(2).run()
    assert not at.exception
    assert "Word 2 of" in texts(at.caption)
    assert at.query_params["word"] == "2" and at.query_params["beam"] == "1"


def test_reading_the_reference_draws_the_gold_links():
    at = run_page("pages/attention.py", forced="true")
    assert not at.exception
    assert "red squares are the grammar's gold links" in texts(at.caption)
    assert at.query_params["forced"] == "true"


def test_the_random_button_picks_a_test_sentence_in_the_link():
    at = run_page("pages/attention.py")
    for _ in range(3):
        at.button(key="attention:random").click().run()
        assert not at.exception
        bucket = at.selectbox(key="attention:bucket").value
        if bucket != seq2seq.bucket_name(grammar.BUCKETS[2]) or at.number_input(key="attention:idx").value:
            break
    else:
        pytest.fail("three random picks all gave the default sentence")
    assert at.query_params.get("bucket", bucket) == bucket


def test_a_typed_sentence_is_translated_and_its_gold_translation_shown():
    sentence = a_sentence()
    at = run_page("pages/attention.py", src="typed", text=sentence.upper() + ".")
    assert not at.exception and not at.error
    assert "Reference (the grammar's translation)" in texts(at.markdown)
    assert vega_count(at) >= 3


def test_unknown_words_are_highlighted_with_suggestions():
    at = run_page("pages/attention.py", src="typed", text="the cta sees the xylophonist")
    assert not at.exception
    error = texts(at.error)
    assert "cta" in error and "did you mean" in error and "xylophonist" in error
    assert ":red-background[**cta**]" in texts(at.markdown)
    assert "RNNsearch (attention)" not in texts(at.markdown)


def test_typed_markdown_is_shown_as_text():
    at = run_page("pages/attention.py", src="typed", text="the cat sees [a](dog) **x**")
    assert not at.exception
    shown = texts(at.markdown)
    assert "\\[a\\]\\(dog\\)" in shown and "\\*\\*x\\*\\*" in shown


def test_a_long_paste_gets_a_clear_message():
    at = run_page("pages/attention.py", src="typed")
    at.text_area(key="attention:text").input("the cat " * 250).run()
    assert not at.exception
    assert f"the limit is {grammar.MAX_CHARS}" in texts(at.error)


def test_bad_link_values_fall_back_to_defaults():
    at = run_page("pages/attention.py", bucket="999", idx=-4, beam=7, word="x", model="gpt")
    assert not at.exception
    assert at.selectbox(key="attention:bucket").value == seq2seq.bucket_name(grammar.BUCKETS[2])
    assert at.select_slider(key="attention:beam").value == 5
