"""Two web servers behind HAProxy, sharing one checkpoint store, a real Redis for the classroom and a Ray cluster for
training, all started here; each check in Chromium.

A job started from one server shows its progress on the other (and is cancelled from there); a room opened on one
is joined on the other; through the proxy, two browsers land on different servers and each keeps to its own (a
slider moves, a photo uploads)."""
import re
from urllib.parse import parse_qs, urlparse

import pytest
from PIL import Image

from engine.data import photos
from tests.e2e.harness import (
    exceptions,
    open_page,
    proxied_servers,
    ray_cluster,
    redis_server,
    screenshot,
    step_first_slider,
    wait_ready,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(the proxy's URL, [server 1's URL, server 2's URL])."""
    folder = tmp_path_factory.mktemp("two-servers")
    with ray_cluster(cpus=2) as ray_env, redis_server(folder) as redis_url:
        env = {**ray_env, "PLAYGROUND_REDIS_URL": redis_url, "PLAYGROUND_CACHE": str(folder / "store"),
               "PLAYGROUND_PRESET": "cpu"}
        with proxied_servers(2, env, folder) as (proxy, servers):
            yield proxy, [url for url, _ in servers]


@pytest.fixture
def two(browser):
    """Two browsers of their own (no shared cookies)."""
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2)]
    yield [c.new_page() for c in contexts]
    for c in contexts:
        c.close()


def test_a_job_started_on_one_server_shows_and_cancels_on_the_other(site, two):
    _, (one, other) = site
    first, second = two
    open_page(first, f"{one}/manifold")
    first.get_by_text("Models on this page").click()
    first.locator(".st-key-manifold_model_dae").get_by_role("button", name="Retrain").click()
    first.locator('[data-testid="stProgress"]').wait_for(timeout=30_000)

    open_page(second, f"{other}/manifold")
    second.get_by_text("Models on this page").click()
    progress = re.compile(r"training dae · step [1-9]\d*/\d+")
    second.get_by_text(progress).first.wait_for(timeout=90_000)          # the Ray task reports through the board
    screenshot(second, "servers-job-on-the-other-server")
    second.get_by_role("button", name="Cancel training").click()
    second.get_by_text("cancelled").first.wait_for(timeout=60_000)
    first.get_by_text("cancelled").first.wait_for(timeout=60_000)         # the first server learns it too
    assert exceptions(first) == [] and exceptions(second) == []


def test_a_room_opened_on_one_server_is_joined_and_followed_on_the_other(site, two):
    _, (one, other) = site
    teacher, student = two
    open_page(teacher, f"{one}/classroom")
    teacher.get_by_role("button", name="Open a room").click()
    teacher.wait_for_url(re.compile(r"teacher="))
    wait_ready(teacher)
    code = parse_qs(urlparse(teacher.url).query)["room"][0]
    open_page(student, f"{other}/classroom?room={code}")
    said = student.get_by_test_id("stAlert").filter(has_text="You are").inner_text()
    label = re.search(r"You are (\w+ \w+)\.", said).group(1)
    assert f"you are {label}" in student.get_by_test_id("stSidebar").inner_text()
    connected = teacher.get_by_test_id("stMetric").filter(has_text="Connected").get_by_test_id("stMetricValue")
    for _ in range(60):                                                  # the dashboard rereads the room
        if connected.inner_text() == "1":
            break
        teacher.wait_for_timeout(500)
    assert connected.inner_text() == "1"
    screenshot(teacher, "servers-room-joined-across")
    # The teacher brings the class to a view: the student, on the other server, follows within seconds.
    teacher.get_by_test_id("stSidebar").get_by_role("link", name="Manifold interpolation").click()
    teacher.locator('[data-testid="stMain"] h1').first.wait_for()
    wait_ready(teacher)
    step_first_slider(teacher, 3, label="Mixing weight")
    teacher.get_by_test_id("stSidebar").get_by_role("button", name="Bring class here").click()
    wait_ready(teacher)
    student.wait_for_url(re.compile(r"/manifold\?.*alpha=0\.65"), timeout=15_000)
    wait_ready(student)
    assert exceptions(teacher) == [] and exceptions(student) == []


def test_through_the_proxy_each_browser_keeps_to_its_own_server(site, two, tmp_path):
    proxy, _ = site
    for page in two:
        open_page(page, f"{proxy}/manifold")
    chosen = [{c["name"]: c["value"] for c in page.context.cookies()}.get("PLAYGROUND_SERVER") for page in two]
    assert sorted(chosen) == ["web1", "web2"]                            # one websocket each: the least busy server
    for page in two:
        slider = page.get_by_test_id("stSlider").filter(has_text="Mixing weight").get_by_role("slider")
        slider.focus()
        slider.press("ArrowRight")
        wait_ready(page)
        assert "alpha=" in page.url
    photo = tmp_path / "coffee.png"
    Image.fromarray(photos.sample_photo("coffee")).save(photo)
    page = two[1]
    open_page(page, f"{proxy}/captioning?src=upload")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(photo))
    wait_ready(page)
    page.locator("h3").first.wait_for(timeout=60_000)
    assert "cup" in page.locator("h3").first.inner_text()                # the upload reached the tab's own server
    assert exceptions(two[0]) == [] and exceptions(page) == []
    screenshot(page, "servers-upload-through-the-proxy")
