"""The pretrained photo models' speed and memory: first load, a 1024 x 768 photo, the detector against OpenCV's
runtime of its graph, a 10 s 30 fps video.

Not pass/fail: prints a table for this machine. `python -m tests.bench.vision [--repeats N]`.
Budgets: a photo described in <= 1 s after the first load; a 10 s 30 fps video in <= 5 s, decoding included.
"""
import argparse
import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from engine.data import media, photos
from engine.models import vision

FIRST_LOAD = """
import json, resource, time
from pathlib import Path
def rss():
    return int(Path('/proc/self/status').read_text().split('VmRSS:')[1].split()[0]) / 1024
import numpy, torch, cv2
from engine.data import photos
from engine.models import vision
photo = photos.sample_photo('coffee')
before = rss()
start = time.perf_counter()
vision.load()
loaded = time.perf_counter()
vision.describe_photo(photo)
print(json.dumps({'load': loaded - start, 'first': time.perf_counter() - loaded, 'added_mb': rss() - before}))
"""


def first_load() -> dict:
    """In a fresh process (its imports of torch and OpenCV done before the clock starts): seconds to read and check
    the model files, seconds for the first photo, and the resident memory they add."""
    out = subprocess.run([sys.executable, "-c", FIRST_LOAD], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    return json.loads(out.stdout.strip().splitlines()[-1])


def photo_jpeg() -> bytes:
    """A real photo at 1024 x 768, as a phone would send it."""
    rgb = np.asarray(Image.fromarray(photos.sample_photo("coffee")).resize((1024, 768), Image.BICUBIC))
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def video_mp4(folder: Path, width: int = 1280, height: int = 720, seconds: int = 10, fps: int = 30) -> bytes:
    """A 10 s 30 fps 720p MP4 of a camera panning across two real photos."""
    frames = photos.panned_clip(frames=seconds * fps, height=height, width=width)
    path = folder / "pan.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for frame in frames:
        writer.write(np.ascontiguousarray(frame[..., ::-1]))
    writer.release()
    return path.read_bytes()


def many_at_once(users: int, count: int) -> tuple[float, float]:
    """Photos described a second, and the process's CPU seconds a photo, with `users` threads describing `count`
    different photos (as many users' scripts do on one server)."""
    from tests.bench.load import photo

    rng = random.Random(0)
    pictures = [media.read_image(photo(rng), "photo.jpg").rgb for _ in range(count)]
    wall, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(users) as pool:
        list(pool.map(vision.describe_photo, pictures))
    return count / (time.perf_counter() - wall), (time.process_time() - cpu) / count


def timed(job, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        job()
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> list[tuple[str, str, str]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)
    cold = first_load()
    vision.load()
    jpeg = photo_jpeg()
    with tempfile.TemporaryDirectory() as folder:
        mp4 = video_mp4(Path(folder))
    said = {}

    def photo() -> None:
        said["photo"] = vision.describe_photo(media.read_image(jpeg, "photo.jpg").rgb).sentence

    def video() -> None:
        clip = media.read_video(mp4, "pan.mp4", vision.FRAMES)
        said["video"] = vision.describe_video(clip.frames).sentence

    rgb = media.read_image(jpeg, "photo.jpg").rgb
    reference = cv2.dnn.readNetFromTensorflow(str(vision.verified("detector")), str(vision.verified("detector_config")))

    def opencv_detector() -> None:
        reference.setInput(cv2.dnn.blobFromImage(rgb, size=(300, 300), swapRB=False))
        reference.forward()

    detector_times = {"PyTorch": timed(lambda: vision.detector()(rgb), args.repeats + 1)[1:],
                      "OpenCV": timed(opencv_detector, args.repeats + 1)[1:]}
    photo_times = timed(photo, args.repeats)
    class_rate, class_cpu = many_at_once(users=8, count=24)
    video_times = timed(video, max(1, args.repeats // 3))
    rows = [
        ("first load: read and check the model files", f"{cold['load']:.2f} s", "once per server process"),
        ("first photo after the load", f"{cold['first']:.2f} s", ""),
        ("memory the photo models add", f"{cold['added_mb']:.0f} MB", "resident, after the first photo"),
        ("1024 x 768 JPEG photo, decode and describe, median / worst",
         f"{statistics.median(photo_times):.2f} / {max(photo_times):.2f} s", f"<= 1 s; “{said['photo']}”"),
        ("the COCO detector on that photo, median: PyTorch (served) / OpenCV's runtime of the same graph",
         " / ".join(f"{statistics.median(t) * 1000:.0f}" for t in detector_times.values()) + " ms",
         f"1 thread (a worker's) / {torch.get_num_threads()} threads"),
        ("8 users' photos at once (24 different, decoded): described a second / CPU a photo",
         f"{class_rate:.1f} / {class_cpu * 1000:.0f} ms", f"{vision.workers()._max_workers} network workers"),
        (f"10 s 30 fps 1280 x 720 MP4, decode {vision.FRAMES} frames and describe, median / worst",
         f"{statistics.median(video_times):.2f} / {max(video_times):.2f} s", f"<= 5 s; “{said['video']}”"),
    ]
    print(f"\nPretrained photo models on {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"{name:{width}}  {value:>14}  {note}")
    return rows


if __name__ == "__main__":
    main()
