"""The photo models' bench in its short form: it runs, and what it describes is right."""
from tests.bench import vision


def test_the_photo_bench_runs_and_describes_its_photo_and_video():
    rows = {name: (value, note) for name, value, note in vision.main(["--repeats", "1"])}
    photo = next(v for k, v in rows.items() if k.startswith("1024 x 768 JPEG"))
    video = next(v for k, v in rows.items() if k.startswith("10 s 30 fps"))
    assert "“A cup on a dining table.”" in photo[1]
    assert "“A person, then a cat.”" in video[1]
    assert float(rows["memory the photo models add"][0].split()[0]) > 50     # two networks were really loaded
