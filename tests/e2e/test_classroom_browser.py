"""A class in Chromium: a teacher and three students, each in a browser context of their own, on one server whose
cache (and rooms' database) this module shares, so the tests can read the room as the engine keeps it.

The tests run in order on one class: joining, following the teacher, locks and pause, a snapshot shown to the class,
and a poll."""
import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page

from engine import api, rooms
from tests.e2e.harness import exceptions, open_page, screenshot, step_first_slider, streamlit_server, wait_ready

pytestmark = pytest.mark.e2e
SLIDER = "Mixing weight"


@dataclass
class Class:
    url: str
    code: str
    secret: str
    teacher: Page
    students: list[Page]
    labels: list[str]


@pytest.fixture(scope="module")
def cls(browser, tmp_path_factory):
    """A room opened through the teacher's dashboard and three students who joined by its link."""
    cache = tmp_path_factory.mktemp("classroom-cache")
    with pytest.MonkeyPatch.context() as mp, streamlit_server({"PLAYGROUND_CACHE": str(cache),
                                                               "PLAYGROUND_PRESET": "cpu"}) as (url, _):
        mp.setenv("PLAYGROUND_CACHE", str(cache))          # this process reads the server's rooms database
        heights = [2400, 1000, 1000, 1000]                  # the teacher's whole dashboard in one screenshot
        contexts = [browser.new_context(viewport={"width": 1400, "height": h}) for h in heights]
        teacher, *students = [c.new_page() for c in contexts]
        open_page(teacher, f"{url}/classroom")
        teacher.get_by_role("button", name="Open a room").click()
        teacher.wait_for_url(re.compile(r"teacher="))
        wait_ready(teacher)
        query = parse_qs(urlparse(teacher.url).query)
        code, secret = query["room"][0], query["teacher"][0]
        labels = []
        for student in students:
            open_page(student, f"{url}/classroom?room={code}")
            said = student.get_by_test_id("stAlert").filter(has_text="You are").inner_text()
            labels.append(re.search(r"You are (\w+ \w+)\.", said).group(1))
        yield Class(url, code, secret, teacher, students, labels)
        for c in contexts:
            c.close()


# ------------------------------------------------------------------------------------------------ helpers

def until(page: Page, check, what: str, timeout: float = 10.0):
    """check()'s first truthy value within `timeout` seconds (the browser keeps handling events meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        page.wait_for_timeout(200)


def view(page: Page) -> tuple[str, float | None]:
    """(url path without the slash, alpha in the URL or None)."""
    url = urlparse(page.url)
    alpha = parse_qs(url.query).get("alpha")
    return url.path.strip("/"), round(float(alpha[0]), 2) if alpha else None


def slider_value(page: Page) -> float | None:
    thumb = page.get_by_test_id("stSlider").filter(has_text=SLIDER).get_by_test_id("stSliderThumbValue")
    return round(float(thumb.inner_text()), 2) if thumb.count() == 1 else None


def on_view(page: Page, path: str, alpha: float | None, timeout: float = 10.0) -> None:
    """Wait until the page is on `path` with `alpha` in its URL and (on /manifold) its slider shows the same."""
    until(page, lambda: view(page) == (path, alpha), f"{page.url} to be /{path} at alpha {alpha}", timeout)
    if path == "manifold":
        until(page, lambda: slider_value(page) == (alpha if alpha is not None else 0.5),
              f"the slider at {alpha}, shows {slider_value(page)}", timeout)
    wait_ready(page)


def sidebar(page: Page):
    return page.get_by_test_id("stSidebar")


def flip(page: Page, toggle: str) -> None:
    """Click a toggle by its label and wait for the rerun."""
    page.mouse.move(0, 0)                   # a tooltip from the last hover would take the click
    page.get_by_test_id("stCheckbox").filter(has_text=toggle).locator("label").first.click()
    wait_ready(page)


def switched_on(page: Page, toggle: str) -> bool:
    return page.get_by_role("switch", name=toggle).is_checked()


def to_page(page: Page, link: str) -> None:
    """Go to another page through a link in the sidebar (a new address in the bar would start a new session)."""
    sidebar(page).get_by_role("link", name=link).click()
    page.locator('[data-testid="stMain"] h1').first.wait_for()
    wait_ready(page)


def to_dashboard(cls: Class) -> None:
    to_page(cls.teacher, "Class dashboard")
    cls.teacher.get_by_text("Pace the class").wait_for()


def metric(page: Page, name: str) -> str:
    return page.get_by_test_id("stMetric").filter(has_text=name).get_by_test_id("stMetricValue").inner_text()


def bring_here(cls: Class) -> None:
    sidebar(cls.teacher).get_by_role("button", name="Bring class here").click()
    wait_ready(cls.teacher)


# ------------------------------------------------------------------------------------------------ the class

def test_three_students_join_by_link_and_the_dashboard_counts_them(cls):
    assert len(set(cls.labels)) == 3
    assert sorted(s.label for s in rooms.students(cls.code, cls.secret)) == sorted(cls.labels)
    for student, label in zip(cls.students, cls.labels):
        assert f"you are {label}" in sidebar(student).inner_text()
        assert switched_on(student, "Follow the teacher")
        assert exceptions(student) == []
    until(cls.teacher, lambda: metric(cls.teacher, "Connected") == "3", "the dashboard to count 3 connected", 8)
    assert metric(cls.teacher, "Following you") == "3"
    assert exceptions(cls.teacher) == []


def test_the_class_follows_the_teacher_to_a_view(cls):
    to_page(cls.teacher, "Manifold interpolation")
    step_first_slider(cls.teacher, 3, label=SLIDER)
    until(cls.teacher, lambda: view(cls.teacher) == ("manifold", 0.65), "the teacher's URL at alpha 0.65")
    brought = time.monotonic()
    bring_here(cls)
    for student in cls.students:
        on_view(student, "manifold", 0.65, timeout=10 - (time.monotonic() - brought))
        assert exceptions(student) == []
    screenshot(cls.students[0], "classroom-student-following")


def test_a_student_off_follow_stays_until_back_to_class(cls):
    *followers, loner = cls.students
    flip(loner, "Follow the teacher")
    assert not switched_on(loner, "Follow the teacher")
    step_first_slider(cls.teacher, 2, label=SLIDER)
    until(cls.teacher, lambda: view(cls.teacher) == ("manifold", 0.75), "the teacher's URL at alpha 0.75")
    bring_here(cls)
    for student in followers:
        on_view(student, "manifold", 0.75)
    loner.wait_for_timeout(2000)                      # a follower looks at the room every 0.75 s
    assert view(loner) == ("manifold", 0.65) and slider_value(loner) == 0.65
    sidebar(loner).get_by_role("button", name="Back to class").click()
    on_view(loner, "manifold", 0.75)
    assert switched_on(loner, "Follow the teacher")


def test_students_may_not_train_unless_the_teacher_allows_it(cls):
    to_dashboard(cls)
    assert not switched_on(cls.teacher, "Students may train")
    student, label = cls.students[0], cls.labels[0]
    student.get_by_text("Models on this page").click()
    models = student.get_by_test_id("stExpander").filter(has_text="Models on this page")
    models.get_by_text("Training is off in this class").first.wait_for()
    assert models.get_by_role("button", name=re.compile(r"^(Train|Retrain)$")).count() == 0
    token = {s.label: s.token for s in rooms.students(cls.code, cls.secret)}[label]
    with pytest.raises(api.TrainingLocked):
        api.start_job("dae", api.config("dae", "cpu"), owner=token)


def test_a_paused_class_looks_up_until_resumed(cls):
    student = cls.students[0]
    flip(cls.teacher, "Pause the class")
    assert rooms.room(cls.code).paused
    student.get_by_role("heading", name="Look up").wait_for(timeout=5000)
    assert student.get_by_test_id("stSlider").count() == 0
    screenshot(student, "classroom-paused")
    flip(cls.teacher, "Pause the class")
    student.get_by_test_id("stSlider").filter(has_text=SLIDER).wait_for(timeout=5000)
    assert student.get_by_role("heading", name="Look up").count() == 0
    assert view(student) == ("manifold", 0.75) and slider_value(student) == 0.75     # the view it had, not a reset


def test_a_snapshot_goes_to_the_gallery_and_to_the_class(cls):
    first, second, sender = cls.students
    flip(sender, "Follow the teacher")
    step_first_slider(sender, 3, label=SLIDER)
    until(sender, lambda: view(sender) == ("manifold", 0.9), "the sender's URL at alpha 0.9")
    sidebar(sender).get_by_role("button", name="Send to class").click()
    sidebar(sender).get_by_text("Sent to the class.").wait_for(timeout=10_000)

    card = cls.teacher.locator("[class*='st-key-classroom_shot_']").filter(has_text=cls.labels[2])
    card.wait_for(timeout=6000)
    assert card.locator("img").count() == 1
    assert card.locator("img").evaluate("i => i.complete && i.naturalWidth > 0")
    (shot,) = rooms.snapshots(cls.code, cls.secret)
    assert f"st-key-classroom_shot_{shot.id}" in card.get_attribute("class")
    assert shot.page == "manifold" and round(float(shot.query["alpha"]), 2) == 0.9

    cls.teacher.get_by_role("button", name="Bring class", exact=True).click()     # Home, so that a move shows
    for student in (first, second):
        on_view(student, "", None)
    card.get_by_role("button", name="Show to class").click()
    for student in (first, second):
        on_view(student, "manifold", 0.9)
    assert rooms.snapshots(cls.code, cls.secret)[0].shown


def test_a_poll_is_answered_counted_and_revealed(cls):
    teacher, student = cls.teacher, cls.students[0]
    question = "Does the code layer's blend look like a digit?"
    teacher.get_by_label("Or your own question").fill(question)
    teacher.get_by_label("Or your own question").press("Enter")
    wait_ready(teacher)
    teacher.get_by_role("button", name="Ask the class").click()
    wait_ready(teacher)

    box = sidebar(student).locator(".st-key-classroom_poll")
    box.wait_for(timeout=6000)
    assert "Poll:" in box.inner_text() and question in box.inner_text()
    box.get_by_text("No", exact=True).click()
    box.get_by_text("Answer counted").wait_for(timeout=5000)
    until(teacher, lambda: teacher.get_by_text(re.compile(r"\(1 answer\)")).count() == 1,
          "the dashboard to count 1 answer", 6)

    teacher.get_by_role("button", name="Close the poll").click()
    box.get_by_text("No: 1 (you)").wait_for(timeout=6000)
    assert "Yes: 0" in box.inner_text()
    wait_ready(teacher)
    assert exceptions(teacher) == [] and exceptions(student) == []
    screenshot(teacher, "classroom-dashboard")
