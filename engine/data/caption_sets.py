"""Real image-caption sets a user has on disk: Flickr8k and MS COCO captions.

- Flickr8k (Hodosh, Young & Hockenmaier 2013, "Framing Image Description as a Ranking Task", JAIR 47): 8,000
  images with 5 captions each, in one of two layouts: the original `Flickr8k.token.txt` (lines
  "1000268201_693b08cb0e.jpg#0<TAB>A child in a pink dress ." next to a `Flicker8k_Dataset/` folder of images), or
  the widely mirrored `captions.txt` (CSV with the header "image,caption") next to `Images/`.
- MS COCO captions (Chen et al. 2015, "Microsoft COCO Captions: Data Collection and Evaluation Server",
  arXiv:1504.00325): an annotations JSON {"images": [{"id", "file_name"}], "annotations": [{"image_id",
  "caption"}]} and a folder of images.

Xu et al. (2015), "Show, Attend and Tell", arXiv:1502.03044, train and report on both. Captions become lowercase
words of letters, digits and inner apostrophes. Captions of images that are not on disk are dropped (a partial
download still trains); the number dropped is logged, and nothing left is an error.
"""
import csv
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from engine.data import DataError

FLICKR_CAPTION_FILES = ("Flickr8k.token.txt", "captions.txt")
FLICKR_IMAGE_FOLDERS = ("Flicker8k_Dataset", "Flickr8k_Dataset", "Images", "images")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Captioned:
    image_path: Path
    captions: tuple[tuple[str, ...], ...]


def tokenize(text: str) -> tuple[str, ...]:
    """'A dog's ball, "red".' -> ('a', "dog's", 'ball', 'red')."""
    return tuple(_WORD.findall(text.lower().replace("\u2019", "'")))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror}") from None


def _collect(pairs, folder: Path, source: Path) -> list[Captioned]:
    """Group (file name, caption text) pairs by image in order of first mention; keep the images on disk."""
    try:
        on_disk = set(os.listdir(folder))
    except OSError as e:
        raise DataError(f"cannot list the images folder {folder}: {e.strerror}") from None
    grouped: dict[str, list[tuple[str, ...]]] = {}
    for name, text in pairs:
        tokens = tokenize(text)
        if tokens:
            grouped.setdefault(name, []).append(tokens)
    if not grouped:
        raise DataError(f"{source} holds no captions")
    # Names with a folder part (some COCO copies) are looked up one by one; plain names in the one listing.
    kept = [Captioned(folder / name, tuple(caps)) for name, caps in grouped.items()
            if name in on_disk or ("/" in name and (folder / name).is_file())]
    missing = len(grouped) - len(kept)
    if not kept:
        raise DataError(f"none of the {len(grouped)} images that {source.name} captions is in {folder} "
                        f"(e.g. {next(iter(grouped))}); "
                        "check that the images are unpacked there")
    if missing:
        log.warning("%s: %d of %d captioned images are not in %s and were skipped",
                    source, missing, len(grouped), folder)
    return kept


def _flickr_token_lines(text: str, path: Path):
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, tab, caption = line.partition("\t")
        if not tab or "#" not in name:
            raise DataError(f"{path}, line {number}: expected 'image.jpg#0<TAB>caption', got {line[:80]!r}")
        yield name.rsplit("#", 1)[0].strip(), caption


def _flickr_csv_lines(text: str, path: Path):
    lines = text.splitlines()
    header = next((line for line in lines if line.strip()), "")
    if [c.strip().lower() for c in header.split(",")] != ["image", "caption"]:
        raise DataError(f"{path}: the first line must be the header 'image,caption', got {header[:80]!r}")
    for number, line in enumerate(lines[lines.index(header) + 1:], start=lines.index(header) + 2):
        if not line.strip():
            continue
        # Mirrors differ on quoting captions that hold commas; everything after the first field is the caption.
        fields = next(csv.reader([line]))
        if len(fields) < 2 or not fields[0].strip():
            raise DataError(f"{path}, line {number}: expected 'image.jpg,caption', got {line[:80]!r}")
        yield fields[0].strip(), ",".join(fields[1:])


def read_flickr8k(folder: Path) -> list[Captioned]:
    """Flickr8k from a folder with Flickr8k.token.txt or captions.txt, and its images in one of
    FLICKR_IMAGE_FOLDERS (or beside the captions)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder")
    captions = next((p for name in FLICKR_CAPTION_FILES for p in (folder / name, folder / "Flickr8k_text" / name)
                     if p.is_file()), None)
    if captions is None:
        raise DataError(f"{folder} has no {' or '.join(FLICKR_CAPTION_FILES)}; put the Flickr8k captions file there")
    images = next((folder / name for name in FLICKR_IMAGE_FOLDERS if (folder / name).is_dir()), None)
    if images is None:
        raise DataError(f"{folder} has no images folder; unpack the Flickr8k images into "
                        f"{folder / FLICKR_IMAGE_FOLDERS[0]} or {folder / 'Images'}")
    text = _read_text(captions)
    lines = _flickr_token_lines if captions.name.endswith(".token.txt") else _flickr_csv_lines
    return _collect(lines(text, captions), images, captions)


def read_coco(annotations_json: Path, images_folder: Path) -> list[Captioned]:
    """MS COCO captions (e.g. captions_train2014.json) and the folder holding its images."""
    annotations_json, images_folder = Path(annotations_json), Path(images_folder)
    if not annotations_json.is_file():
        raise DataError(f"{annotations_json} does not exist; give the COCO captions JSON, e.g. "
                        "annotations/captions_val2014.json")
    if not images_folder.is_dir():
        raise DataError(f"{images_folder} is not a folder; give the folder of the COCO images, e.g. val2014/")
    try:
        data = json.loads(_read_text(annotations_json))
    except json.JSONDecodeError as e:
        raise DataError(f"{annotations_json} is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("images"), list) \
            or not isinstance(data.get("annotations"), list):
        raise DataError(f"{annotations_json} is not a COCO captions file: it needs the lists 'images' and "
                        "'annotations'")
    names: dict[object, str] = {}
    for k, image in enumerate(data["images"]):
        if not isinstance(image, dict) or "id" not in image or not isinstance(image.get("file_name"), str):
            raise DataError(f"{annotations_json}: images[{k}] needs an 'id' and a 'file_name'")
        names[image["id"]] = image["file_name"]
    by_image: dict[object, list[str]] = {}
    for k, note in enumerate(data["annotations"]):
        if not isinstance(note, dict) or "image_id" not in note or not isinstance(note.get("caption"), str):
            raise DataError(f"{annotations_json}: annotations[{k}] needs an 'image_id' and a 'caption'")
        if note["image_id"] not in names:
            raise DataError(f"{annotations_json}: annotations[{k}] refers to image id {note['image_id']!r}, "
                            "which 'images' does not list")
        by_image.setdefault(note["image_id"], []).append(note["caption"])
    # The images list sets the order, so the same file always gives the same list.
    pairs = [(name, caption) for image_id, name in names.items() for caption in by_image.get(image_id, ())]
    return _collect(pairs, images_folder, annotations_json)
