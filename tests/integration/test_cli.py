"""The command line: list, train, eval, jobs, and one-line errors with a non-zero exit code."""
import json
import subprocess
import sys

from engine import registry
from engine.store import REPO_ROOT


def run_cli(*args, cache):
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                          env={"PLAYGROUND_CACHE": str(cache), "PATH": "/usr/bin:/bin", "HOME": str(cache)},
                          timeout=300)


def test_list_json_names_every_registered_model(tmp_path):
    out = run_cli("list", "--json", cache=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["name"] for r in rows] == [s.name for s in registry.list_models()]
    assert all(set(r["presets"]) == {"tiny", "cpu", "gpu"} for r in rows)


def test_train_then_eval_prints_one_json_object(tmp_path):
    out = run_cli("train", "dae2d", "--preset", "tiny", cache=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "saved" in out.stderr
    out = run_cli("eval", "dae2d", "--preset", "tiny", "--json", cache=tmp_path)
    assert out.returncode == 0, out.stderr
    metrics = json.loads(out.stdout)
    assert metrics["checkpoint"]["source"] == "cached"
    assert -1.0 <= metrics["field_alignment"] <= 1.0


def test_eval_of_an_untrained_model_fails_with_one_line(tmp_path, monkeypatch):
    out = run_cli("eval", "dae", "--preset", "gpu", "--json", cache=tmp_path)
    assert out.returncode == 1
    assert out.stdout == ""
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("error: ") and "not trained" in out.stderr


def test_unknown_model_fails_with_one_line(tmp_path):
    out = run_cli("train", "nope", cache=tmp_path)
    assert out.returncode == 1
    assert out.stderr.startswith("error: unknown model 'nope'") and out.stderr.count("\n") == 1


def test_jobs_lists_nothing_on_a_fresh_cache(tmp_path):
    out = run_cli("jobs", "--json", cache=tmp_path)
    assert out.returncode == 0 and json.loads(out.stdout) == []


def flickr_fixture(folder) -> None:
    """A Flickr8k folder in the CSV layout: 20 photos (rendered scenes), 2 captions each."""
    from PIL import Image

    from engine.data import scenes

    (folder / "Images").mkdir(parents=True)
    rows = ["image,caption"]
    for i, item in enumerate(scenes.scenes(20, 5, 32)):
        Image.fromarray(item.image).save(folder / "Images" / f"{i}.jpg")
        rows += [f"{i}.jpg,{' '.join(c).capitalize()} .".replace(" ,", "") for c in item.captions[:2]]
    (folder / "captions.txt").write_text("\n".join(rows) + "\n")


def test_a_captioner_trains_on_photos_named_on_the_command_line(tmp_path):
    flickr_fixture(tmp_path / "flickr")
    photos = f"photos={tmp_path / 'flickr'}"
    out = run_cli("train", "captioner", "--preset", "tiny", "--set", photos, "--set", "vocab_size=12",
                  cache=tmp_path)
    assert out.returncode == 0, out.stderr
    out = run_cli("eval", "captioner", "--preset", "tiny", "--set", photos, "--set", "vocab_size=12", "--json",
                  cache=tmp_path)
    assert out.returncode == 0, out.stderr
    metrics = json.loads(out.stdout)
    assert metrics["test_scenes"] == 2 and 0 <= metrics["bleu4"] <= 100
    assert "attention_hit_rate" not in metrics                     # photos come without boxes
    assert "photos from" in metrics["setting"]


def photo_flickr_fixture(folder) -> None:
    """A Flickr8k folder in the original layout made of the real photos installed packages ship, each also
    mirrored (20 photos), with five captions each made by rule from the word that names it."""
    from PIL import Image

    from engine.data import photos

    (folder / "Flicker8k_Dataset").mkdir(parents=True)
    lines = []
    for name, sample in photos.SAMPLES.items():
        rgb = photos.sample_photo(name)
        word = sample.expected[0]
        for view, pixels in (("", rgb), ("-mirrored", rgb[:, ::-1])):
            Image.fromarray(pixels.copy()).save(folder / "Flicker8k_Dataset" / f"{name}{view}.jpg", quality=90)
            for r, text in enumerate((f"A photo of a {word} .", f"A {word} .", f"There is a {word} here .",
                                      f"A {word} in the picture .", f"The {word} is shown .")):
                lines.append(f"{name}{view}.jpg#{r}\t{text}")
    (folder / "Flickr8k.token.txt").write_text("\n".join(lines) + "\n")


def test_a_captioner_with_the_pretrained_encoder_trains_on_real_photos(tmp_path):
    """The configuration that trains a real-photo captioner (on a GPU, with a user's Flickr8k), end to end: the
    CLI trains it through the engine, and eval reads it back with its setting."""
    photo_flickr_fixture(tmp_path / "flickr")
    settings = ["--set", f"photos={tmp_path / 'flickr'}", "--set", "encoder=lite0-tuned", "--set", "size=64",
                "--set", "grid=2", "--set", "vocab_size=30", "--set", "steps=30"]
    out = run_cli("train", "captioner", "--preset", "tiny", *settings, cache=tmp_path)
    assert out.returncode == 0, out.stderr
    out = run_cli("eval", "captioner", "--preset", "tiny", *settings, "--json", cache=tmp_path)
    assert out.returncode == 0, out.stderr
    metrics = json.loads(out.stdout)
    assert metrics["test_scenes"] == 2 and 0 <= metrics["bleu4"] <= 100
    assert "2 x 2 grid from EfficientNet-Lite0 pretrained on ImageNet, last block tuned" in metrics["setting"]


def test_a_bad_setting_fails_with_one_line(tmp_path):
    for args, message in ((("--set", "beam=wide"), "takes a int"), (("--set", "colour=red"), "FIELD=VALUE"),
                          (("--set", f"photos={tmp_path / 'missing'}"), "missing is not a folder"),
                          (("--set", "encoder=vgg"), "encoder must be one of scratch, lite0, lite0-tuned"),
                          (("--set", "encoder=lite0"), "grid size / 32")):
        out = run_cli("train", "captioner", "--preset", "tiny", *args, cache=tmp_path)
        last = out.stderr.splitlines()[-1]
        assert out.returncode == 1 and last.startswith("error: ") and message in last, out.stderr
