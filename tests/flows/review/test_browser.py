"""A reviewer in a real browser: log in, open the next task, see clip and SoM, accept with one keystroke."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

import db
from db.models import Annotation, QuestionItem
from flows.review.push import review_push
from tests.flows.review.conftest import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.labelstudio, pytest.mark.postgres, pytest.mark.slow]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})

        def only_loopback(route):  # nothing leaves this machine
            if route.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
                return route.continue_()
            return route.abort()

        context.route("**/*", only_loopback)
        yield context.new_page()
        browser.close()


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
    page.on("response", lambda r: media.append(r.url.rsplit(".", 1)[-1]) if "/media/" in r.url and r.ok else None)
    page.goto(f"{label_studio.url}/projects/{project_id}/data?labeling=1")  # "Label all tasks": the next one
    page.wait_for_selector("video", state="attached", timeout=90_000)
    page.wait_for_function("document.querySelector('video').readyState >= 1", timeout=60_000)  # clip decoded
    page.wait_for_function("[...document.images].some(i => i.naturalWidth > 0)", timeout=60_000)  # SoM drawn
    page.get_by_text("Answer corrected").first.wait_for(timeout=30_000)
    assert {"webm", "png"} <= set(media)

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
