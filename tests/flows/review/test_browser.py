"""A reviewer in a real browser: log in, open the next task, see clip and SoM, accept with one keystroke."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import db
from db.models import Annotation, QuestionItem
from flows.review.push import review_push
from tests.browser import loopback_page
from tests.flows.review.conftest import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.labelstudio, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def page():
    with loopback_page() as page:
        yield page


def test_reviewer_accepts_preselected_answer_with_one_keystroke(review_env, label_studio, annotators, page):
    url, project = review_env["database_url"], review_env["project"]
    review_push(project=project)
    with db.session_scope(url) as session:
        project_id = session.scalar(select(QuestionItem.ls_project_id).limit(1))
    reviewer = annotators[0]
    page.goto(f"{label_studio.url}/user/login/")
    page.fill('input[name="email"]', reviewer.email)
    page.fill('input[name="password"]', reviewer.password)
    page.click('button[type="submit"]')
    page.wait_for_load_state("networkidle")
    assert "/user/login" not in page.url, "login failed"

    media = []  # what our media endpoint served to the browser
    page.on("response", lambda r: media.append(r.url) if "/media/" in r.url and r.ok else None)
    page.goto(f"{label_studio.url}/projects/{project_id}/data?labeling=1")  # "Label all tasks": the next one
    page.wait_for_selector("video", state="attached", timeout=90_000)
    both = "[...document.querySelectorAll('video')].filter(v => v.readyState >= 1).length == 2"
    page.wait_for_function(both, timeout=60_000)  # the marked clip and the unmarked one, both decoded
    page.wait_for_function("[...document.images].some(i => i.naturalWidth > 0)", timeout=60_000)  # SoM drawn
    page.get_by_text("Answer corrected").first.wait_for(timeout=30_000)
    assert {"webm", "png"} <= {url.rsplit(".", 1)[-1] for url in media}
    shown = page.evaluate("[...document.querySelectorAll('video')].map(v => v.currentSrc || v.src)")
    with db.session_scope(url) as session:
        task_items = session.scalars(select(QuestionItem).where(QuestionItem.ls_task_id.is_not(None))).all()
        clips = {i.provenance["review_clip"]["artifact"]: i.provenance["plain_clip"]["artifact"] for i in task_items}
    marked, plain = (src.rsplit("/", 1)[-1] for src in shown)
    assert clips.get(marked) == plain and marked != plain  # the task's own unmarked clip beside its marked one

    page.keyboard.press("Control+Enter")  # the only keystroke: the machine's answer and "Correct" are preselected

    verdict = wait_for(
        lambda: _verdicts(url),
        timeout=60,
        what="the browser's verdict in PostgreSQL",
    )[0]
    with db.session_scope(url) as session:
        reviewed = session.get(QuestionItem, verdict.item_id)
        machine = reviewed.answer_index
    assert (verdict.annotator, verdict.verdict, verdict.chosen_index) == (reviewer.email, "correct", machine)
    assert verdict.source == "webhook" and verdict.lead_time_s is not None


def _verdicts(url):
    with db.session_scope(url) as session:
        return session.scalars(select(Annotation)).all()


def known_clip(frames: int = 40, fps: float = 10.0) -> dict:
    """A marked clip of known length in the artifact store, as the generate stage records it."""
    import tempfile
    from pathlib import Path

    import numpy as np

    from flows.ingest.video_io import WebmWriter
    from flows.stage import open_stage

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "known.webm"
        with WebmWriter(path, fps=fps, width=64, height=48) as writer:
            for n in range(frames):
                writer.write(np.full((48, 64, 3), n * 6, np.uint8))
        key = open_stage().store.put_file(path, ".webm")
    return {"artifact": key, "fps": fps, "frames": frames, "width": 64, "height": 48}


def log_in(page, label_studio, reviewer):
    page.goto(f"{label_studio.url}/user/login/")
    page.fill('input[name="email"]', reviewer.email)
    page.fill('input[name="password"]', reviewer.password)
    page.click('button[type="submit"]')
    page.wait_for_load_state("networkidle")
    assert "/user/login" not in page.url, "login failed"


def test_a_task_shows_its_options_and_frame_count_and_a_correction_lands(review_env, label_studio, annotators, page):
    url, project = review_env["database_url"], review_env["project"]
    with db.session_scope(url) as session:  # one item shows a 40-frame 10 fps clip, and offers four options
        target = session.scalars(select(QuestionItem).order_by(QuestionItem.id)).first()
        target.provenance = {**target.provenance, "review_clip": known_clip()}
        target.options = list(target.options)[:3] + ["none of these"]
        target.answer_index = min(target.answer_index, 3)
        target_id, machine = target.id, target.answer_index
    review_push(project=project)
    with db.session_scope(url) as session:
        project_id, task_id = session.execute(
            select(QuestionItem.ls_project_id, QuestionItem.ls_task_id).where(QuestionItem.id == target_id)
        ).one()
    log_in(page, label_studio, annotators[1])
    page.goto(f"{label_studio.url}/projects/{project_id}/data?task={task_id}")
    page.wait_for_selector("video", state="attached", timeout=90_000)
    page.wait_for_function("document.querySelector('video').readyState >= 1", timeout=60_000)
    page.get_by_text("Answer corrected").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1000)  # the frame counter is drawn once the clip's length is known
    text = page.inner_text("body")
    assert "D[4]" in text and "E[5]" not in text  # exactly the item's four options, keys 1-4
    assert " ".join(text.split()).count("of 40") >= 1  # Label Studio counts the clip's 40 frames ...
    assert "00:03 09" in " ".join(text.split())  # ... and its last frame starts at 3.9 s: 3 s + 9 frames at 10 fps
    duration = page.evaluate("document.querySelector('video').duration")
    assert abs(duration - 4.0) < 0.06, duration  # 40 frames at 10 fps

    other = (machine + 1) % 4
    page.keyboard.press(str(other + 1))  # the option's number key ...
    page.keyboard.press("w")  # ... "Answer corrected" ...
    page.keyboard.press("Control+Enter")  # ... and submit
    verdict = wait_for(lambda: _verdicts(url), timeout=60, what="the corrected verdict in PostgreSQL")[0]
    assert (verdict.item_id, verdict.verdict, verdict.chosen_index) == (target_id, "corrected", other)
    assert verdict.annotator == annotators[1].email and verdict.source == "webhook"
