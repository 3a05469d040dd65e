"""A room that asks for proof of work: a bare join is refused with directions, and the waiting-room
page still gets its visitor through — the work found in a Web Worker, the pass in a cookie only."""
import json
import urllib.error
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import screenshot
from test_waiting_room_page import assert_pass_in_cookie_only, landed


def bare_join(gateway, event: str):
    request = urllib.request.Request(f"{gateway.base}/api/v1/queue/{event}/join", method="POST")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers.get("Content-Type"), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), json.loads(error.read())


def test_join_without_solution_is_refused(gateway):
    event = gateway.room(release_rate=0, proof_of_work=12)
    status, content_type, problem = bare_join(gateway, event)
    assert status == 403
    assert content_type == "application/problem+json"
    assert problem["type"] == "https://booking-rush.dev/problems/proof-of-work-required"
    assert f"/api/v1/queue/{event}/challenge" in problem["detail"]
    _, stats = gateway.admin("GET", f"/rooms/{event}/stats")
    assert stats["stats"]["waiting"] == 0, stats


def test_page_solves_the_challenge_and_gets_its_visitor_through(gateway, browser):
    event = gateway.room(release_rate=2, proof_of_work=12, target_url="/health")
    browser.get(f"{gateway.base}/waiting-room/{event}")
    seen = []
    WebDriverWait(browser, 30, poll_frequency=0.1).until(lambda d: landed(d, f"{gateway.base}/health", seen))
    assert '"status":"ok"' in browser.page_source
    assert_pass_in_cookie_only(browser, event, seen)
    _, room = gateway.admin("GET", f"/rooms/{event}/stats")
    assert room["stats"]["released_total"] == 1, "the browser joined once, with its proof, and was admitted"
    screenshot(browser, "proof-of-work-landed")


def test_page_without_javascript_says_it_needs_it(gateway, browser_without_javascript):
    event = gateway.room(release_rate=2, proof_of_work=12)
    browser_without_javascript.get(f"{gateway.base}/waiting-room/{event}")
    message = browser_without_javascript.find_element(By.ID, "needs-javascript")
    assert "JavaScript" in message.text
    _, room = gateway.admin("GET", f"/rooms/{event}/stats")
    assert room["stats"]["waiting"] == 0, "no place without the work"
