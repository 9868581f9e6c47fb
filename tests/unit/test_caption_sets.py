"""engine.data.caption_sets: Flickr8k in both layouts and COCO captions, tokenized, with errors a user can act on."""
import json
import logging
import random
from pathlib import Path

import pytest
from PIL import Image

from engine.data import DataError, scenes
from engine.data.caption_sets import Captioned, read_coco, read_flickr8k, tokenize

NAMES = ("1000268201_693b08cb0e.jpg", "1001773457_577c3a7d70.jpg", "1002674143_1b742ab4b8.jpg")


def write_images(folder: Path, names=NAMES) -> None:
    folder.mkdir(parents=True)
    for i, name in enumerate(names):
        sc = scenes.scene(random.Random(i), 32)
        Image.fromarray(sc.image).save(folder / name, format="PNG")   # the name need not match the format


def test_tokenize_keeps_lowercase_words_digits_and_inner_apostrophes():
    assert tokenize("A child in a pink dress .") == ("a", "child", "in", "a", "pink", "dress")
    assert tokenize('The dog\'s ball, "red"! 2 kids\u2019 toys - \'hi\'') == (
        "the", "dog's", "ball", "red", "2", "kids", "toys", "hi")
    assert tokenize("Café au lait") == ("café", "au", "lait")
    assert tokenize(" . , ") == ()


# ---- Flickr8k ----------------------------------------------------------------------------------------------


def test_flickr8k_token_layout(tmp_path, caplog):
    write_images(tmp_path / "Flicker8k_Dataset")
    (tmp_path / "Flickr8k.token.txt").write_text(
        f"{NAMES[1]}#0\tA black dog and a spotted dog are fighting\n"
        f"{NAMES[0]}#0\tA child in a pink dress .\n"
        f"{NAMES[0]}#1\tA girl going into a wooden building .\n"
        "\n"
        f"{NAMES[1]}#1\tTwo dogs , on the road .\n"
        "2000000000_missing.jpg#0\tA picture nobody downloaded .\n"
        f"{NAMES[2]}#0\t . \n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="engine.data.caption_sets"):
        items = read_flickr8k(tmp_path)
    # Ordered by first mention; the image whose only caption has no words and the missing image are left out.
    assert items == [
        Captioned(tmp_path / "Flicker8k_Dataset" / NAMES[1],
                  (tuple("a black dog and a spotted dog are fighting".split()), ("two", "dogs", "on", "the", "road"))),
        Captioned(tmp_path / "Flicker8k_Dataset" / NAMES[0],
                  (tuple("a child in a pink dress".split()), tuple("a girl going into a wooden building".split()))),
    ]
    assert all(item.image_path.is_file() for item in items)
    assert "1 of 3 captioned images are not in" in caplog.text


def test_flickr8k_csv_layout_with_commas_inside_captions(tmp_path):
    write_images(tmp_path / "Images")
    (tmp_path / "captions.txt").write_text(
        "image,caption\n"
        f"{NAMES[0]},A child in a pink dress is climbing up a set of stairs in an entry way .\n"
        f'{NAMES[0]},"A little girl, in pink, climbs stairs ."\n'
        f"{NAMES[2]},Two dogs, one black, play .\n", encoding="utf-8")
    items = read_flickr8k(tmp_path)
    assert [item.image_path.name for item in items] == [NAMES[0], NAMES[2]]
    assert items[0].captions[1] == ("a", "little", "girl", "in", "pink", "climbs", "stairs")
    assert items[1].captions == (("two", "dogs", "one", "black", "play"),)


def test_flickr8k_captions_in_the_text_subfolder_and_a_byte_order_mark(tmp_path):
    write_images(tmp_path / "Flickr8k_Dataset")
    (tmp_path / "Flickr8k_text").mkdir()
    (tmp_path / "Flickr8k_text" / "Flickr8k.token.txt").write_text(f"\ufeff{NAMES[2]}#0\tA dog runs .\n")
    (item,) = read_flickr8k(tmp_path)
    assert item.image_path == tmp_path / "Flickr8k_Dataset" / NAMES[2] and item.captions == (("a", "dog", "runs"),)


@pytest.mark.parametrize("files, folder, message", [
    ({}, "Images", "has no Flickr8k.token.txt or captions.txt"),
    ({"captions.txt": "image,caption\nx.jpg,a dog\n"}, None, "has no images folder"),
    ({"Flickr8k.token.txt": f"{NAMES[0]}#0 A child with spaces, no tab\n"}, "Images", "line 1: expected"),
    ({"Flickr8k.token.txt": f"{NAMES[0]}\tA child without a caption number\n"}, "Images", "line 1: expected"),
    ({"captions.txt": f"file,text\n{NAMES[0]},a dog\n"}, "Images", "header 'image,caption'"),
    ({"captions.txt": f"image,caption\n{NAMES[0]},a dog\nno comma here\n"}, "Images", "line 3: expected"),
    ({"captions.txt": "image,caption\n"}, "Images", "holds no captions"),
    ({"captions.txt": "image,caption\nother.jpg,a dog\n"}, "Images", r"none of the 1 images .* \(e.g. other.jpg\)"),
])
def test_flickr8k_errors_say_what_to_fix(tmp_path, files, folder, message):
    if folder:
        write_images(tmp_path / folder)
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_flickr8k(tmp_path)


def test_flickr8k_refuses_a_missing_folder_and_text_that_is_not_utf8(tmp_path):
    with pytest.raises(DataError, match="is not a folder"):
        read_flickr8k(tmp_path / "nowhere")
    write_images(tmp_path / "Images")
    (tmp_path / "captions.txt").write_bytes(b"image,caption\n" + NAMES[0].encode() + b",caf\xe9\n")
    with pytest.raises(DataError, match="not UTF-8"):
        read_flickr8k(tmp_path)


# ---- COCO --------------------------------------------------------------------------------------------------


def coco(tmp_path: Path, data) -> Path:
    path = tmp_path / "captions_val2014.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_coco_captions_follow_the_images_list(tmp_path, caplog):
    write_images(tmp_path / "val2014", NAMES[:2])
    path = coco(tmp_path, {
        "info": {}, "licenses": [],
        "images": [{"id": 42, "file_name": NAMES[1], "width": 32}, {"id": 7, "file_name": NAMES[0]},
                   {"id": 9, "file_name": "not_downloaded.jpg"}, {"id": 11, "file_name": NAMES[0] + ".uncaptioned"}],
        "annotations": [{"id": 1, "image_id": 7, "caption": "A man riding a horse."},
                        {"id": 2, "image_id": 42, "caption": "Two CATS on a sofa"},
                        {"id": 3, "image_id": 7, "caption": "Someone's horse,\nin a field."},
                        {"id": 4, "image_id": 9, "caption": "Lost."}]})
    with caplog.at_level(logging.WARNING, logger="engine.data.caption_sets"):
        items = read_coco(path, tmp_path / "val2014")
    assert items == [
        Captioned(tmp_path / "val2014" / NAMES[1], (("two", "cats", "on", "a", "sofa"),)),
        Captioned(tmp_path / "val2014" / NAMES[0], (("a", "man", "riding", "a", "horse"),
                                                    ("someone's", "horse", "in", "a", "field"))),
    ]
    assert "1 of 3 captioned images" in caplog.text


@pytest.mark.parametrize("data, message", [
    ('{"images": [', "not valid JSON"),
    ([1, 2], "needs the lists 'images' and 'annotations'"),
    ({"images": []}, "needs the lists 'images' and 'annotations'"),
    ({"images": [{"id": 1}], "annotations": []}, r"images\[0\] needs an 'id' and a 'file_name'"),
    ({"images": [{"id": 1, "file_name": NAMES[0]}], "annotations": [{"image_id": 1}]},
     r"annotations\[0\] needs an 'image_id' and a 'caption'"),
    ({"images": [{"id": 1, "file_name": NAMES[0]}], "annotations": [{"image_id": 2, "caption": "a dog"}]},
     "refers to image id 2"),
    ({"images": [{"id": 1, "file_name": "gone.jpg"}], "annotations": [{"image_id": 1, "caption": "a dog"}]},
     "none of the 1 images"),
    ({"images": [{"id": 1, "file_name": NAMES[0]}], "annotations": []}, "holds no captions"),
])
def test_coco_errors_say_what_to_fix(tmp_path, data, message):
    write_images(tmp_path / "val2014", NAMES[:1])
    with pytest.raises(DataError, match=message):
        read_coco(coco(tmp_path, data), tmp_path / "val2014")


def test_coco_refuses_missing_paths(tmp_path):
    write_images(tmp_path / "val2014", NAMES[:1])
    with pytest.raises(DataError, match="give the COCO captions JSON"):
        read_coco(tmp_path / "missing.json", tmp_path / "val2014")
    path = coco(tmp_path, {"images": [], "annotations": []})
    with pytest.raises(DataError, match="give the folder of the COCO images"):
        read_coco(path, tmp_path / "train2014")
