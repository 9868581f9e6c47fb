"""The attention page in Chromium with the shipped checkpoint: a typed sentence, an unknown word, a long paste."""
import re

import pytest

from engine.data import grammar
from tests.e2e.harness import exceptions, open_page, screenshot, step_first_slider, wait_ready

pytestmark = pytest.mark.e2e


def type_sentence(page, text: str) -> None:
    box = page.get_by_role("textbox", name="English sentence")
    box.fill(text)
    box.press("Control+Enter")
    wait_ready(page)


def test_a_typed_sentence_gets_a_translation_and_an_alignment(server, page):
    sentence = " ".join(grammar.corpus(3, 1, min_len=12, max_len=16)[0].src)
    open_page(page, f"{server}/attention?src=typed")
    type_sentence(page, sentence)
    assert page.get_by_text("Reference (the grammar's translation)").count() == 1
    heat = page.locator('[data-testid="stVegaLiteChart"]').first
    heat.wait_for(timeout=30_000)
    assert heat.bounding_box()["height"] > 100
    assert "text=" in page.url
    assert exceptions(page) == []
    screenshot(page, "attention-typed")


def test_unknown_words_and_long_pastes_get_clear_messages(server, page):
    open_page(page, f"{server}/attention?src=typed")
    type_sentence(page, "the cat sees the zebrafish")
    assert page.get_by_text("did you mean").count() >= 1 or page.get_by_text("no near word").count() >= 1
    type_sentence(page, "the dog " * 250)
    assert page.get_by_text(f"the limit is {grammar.MAX_CHARS}").count() == 1
    assert exceptions(page) == []
    screenshot(page, "attention-errors")


def test_a_long_test_sentence_steps_through_the_decoder(server, page):
    open_page(page, f"{server}/attention?bucket=41-50&idx=3&beam=1")
    assert page.get_by_text(re.compile(r"Word 1 of \d+")).count() == 1
    step_first_slider(page, 4, label="Output word")
    word = int(re.search(r"word=(\d+)", page.url).group(1))
    assert word > 1
    assert page.get_by_text(re.compile(rf"Word {word} of \d+")).count() == 1
    assert exceptions(page) == []
    screenshot(page, "attention-long")
