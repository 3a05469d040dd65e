"""The operator console in a real headless Chromium: admin sign-in, live room figures, sales per
zone, traffic, and the controls (release rate, pause/resume, open, close) acting on the room."""
import json
import os
import urllib.error
import urllib.request
import uuid

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from conftest import ADMIN_TOKEN, delete_key_space, new_key_space, screenshot, start_dev, stop
from test_customer_flow import ZONES, inventory


def room_section(driver, event: str):
    return driver.find_element(By.CSS_SELECTOR, f'section.room[data-event="{event}"]')


def read_fresh(driver, read):
    """What `read(driver)` returns, read again when a console redraw replaced an element it was
    reading (StaleElementReferenceException)."""
    return WebDriverWait(driver, 5, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: (read(d),))[0]


def section_text(driver, event: str, css: str) -> str:
    """The text of the room's element at `css`."""
    return read_fresh(driver, lambda d: room_section(d, event).find_element(By.CSS_SELECTOR, css).text)


def zone_rows(driver, event: str) -> list:
    """Each zone row of the room as (zone id, [its numbers]), read in one go."""
    return read_fresh(driver, lambda d: [
        (row.get_attribute("data-zone"), [cell.text for cell in row.find_elements(By.CSS_SELECTOR, "td.number")])
        for row in room_section(d, event).find_elements(By.CSS_SELECTOR, ".room-zones tbody tr")
    ])


def figure(driver, event: str, name: str) -> str:
    return section_text(driver, event, ".room-" + name)


def refreshes(driver) -> int:
    return int(driver.find_element(By.TAG_NAME, "body").get_attribute("data-refreshed") or 0)


def wait_refreshed(driver, times: int = 2):
    start = refreshes(driver)
    WebDriverWait(driver, 15, poll_frequency=0.2).until(lambda d: refreshes(d) >= start + times)


def set_field(field, text: str):
    """Types `text` over the field's value with the field focused (the console leaves a focused
    field alone when it redraws, so a redraw between clearing and typing cannot mix the two)."""
    field.click()
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(text)


def room(system, event: str) -> dict:
    return system.admin("GET", f"/rooms/{event}")[1]["room"]["configuration"]


def shoot(driver, event: str, name: str):
    driver.execute_script("arguments[0].scrollIntoView()", room_section(driver, event))
    screenshot(driver, name)


def sign_in(driver, system):
    driver.get(system.base + "/admin/")
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "signin").is_displayed())
    driver.find_element(By.ID, "email").send_keys(system.admin_email)
    driver.find_element(By.ID, "password").send_keys(system.admin_password)
    driver.find_element(By.ID, "signin-button").click()
    WebDriverWait(driver, 15).until(lambda d: d.find_element(By.ID, "console").is_displayed())


def test_console_shows_live_figures_and_controls_the_room(system, browser):
    event = system.event(ZONES)
    system.admin("POST", f"/rooms/{event}/pause")
    for _ in range(3):
        system.request("POST", f"/api/v1/queue/{event}/join")

    sign_in(browser, system)
    WebDriverWait(browser, 15, poll_frequency=0.2).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'section.room[data-event="{event}"]'))
    wait_refreshed(browser)
    assert figure(browser, event, "waiting") == "3"
    assert figure(browser, event, "mode") == "paused"
    assert figure(browser, event, "configured") == "2"
    zones = zone_rows(browser, event)
    assert [zone for zone, _ in zones] == ["back", "front"]
    assert zones[1][1] == ["10", "10", "0", "0"]
    assert float(browser.find_element(By.ID, "traffic-rps").text) > 0, "the joins count as traffic"
    shoot(browser, event, "console-paused")

    rate = room_section(browser, event).find_element(By.CSS_SELECTOR, ".room-rate")
    set_field(rate, "7")
    room_section(browser, event).find_element(By.CSS_SELECTOR, ".room-set-rate").click()
    WebDriverWait(browser, 10, poll_frequency=0.2).until(lambda d: room(system, event)["release_rate"] == 7)
    WebDriverWait(browser, 10, poll_frequency=0.2).until(lambda d: figure(d, event, "configured") == "7")

    room_section(browser, event).find_element(By.CSS_SELECTOR, ".room-resume").click()
    WebDriverWait(browser, 10, poll_frequency=0.2).until(lambda d: room(system, event)["mode"] == "queue")
    WebDriverWait(browser, 15, poll_frequency=0.2).until(lambda d: figure(d, event, "waiting") == "0")
    assert int(figure(browser, event, "released")) == 3
    shoot(browser, event, "console-released")

    room_section(browser, event).find_element(By.CSS_SELECTOR, ".room-open").click()
    WebDriverWait(browser, 10, poll_frequency=0.2).until(lambda d: figure(d, event, "mode") == "open")
    room_section(browser, event).find_element(By.CSS_SELECTOR, ".room-close").click()
    browser.switch_to.alert.accept()
    WebDriverWait(browser, 10, poll_frequency=0.2).until(lambda d: room(system, event)["mode"] == "closed")
    with pytest.raises(urllib.error.HTTPError) as refused:
        system.request("POST", f"/api/v1/queue/{event}/join")
    assert refused.value.code == 409
    shoot(browser, event, "console-closed")


def test_console_shows_adaptive_release_and_a_rate_set_by_hand_takes_it_back(system, browser):
    event = system.event(ZONES)
    adaptive = {"min_rate": 1, "max_rate": 9, "p99_target_ms": 250, "interval_s": 1, "min_samples": 0, "routes": ["bookings-reserve"]}
    system.admin("PATCH", f"/rooms/{event}", {"release_rate": 12, "adaptive": adaptive})
    sign_in(browser, system)
    WebDriverWait(browser, 15, poll_frequency=0.2).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'section.room[data-event="{event}"]'))
    # The controller brings the rate set above its range inside it, and the console shows why.
    WebDriverWait(browser, 15, poll_frequency=0.3).until(
        lambda d: room_section(d, event).find_elements(By.CSS_SELECTOR, '.room-decisions li[data-action="clamp"]'))
    assert room(system, event)["release_rate"] == 9
    decision = section_text(browser, event, ".room-decisions li")
    assert "clamp 12 → 9/s" in decision and "adaptive bounds" in decision, decision
    assert figure(browser, event, "adaptive").startswith("Adaptive release: on, 1–9/s for a p99 under 250 ms")
    # The charts of the sale so far: a sample every 5 s, the decision as a dot on the rate line.
    chart = lambda d: room_section(d, event).find_element(By.CSS_SELECTOR, ".room-rate-chart")
    WebDriverWait(browser, 25, poll_frequency=0.5).until(lambda d: int(chart(d).get_attribute("data-points") or 0) >= 2)
    assert chart(browser).find_elements(By.CSS_SELECTOR, "polyline.configured") and chart(browser).find_elements(By.CSS_SELECTOR, "polyline.observed")
    assert len(chart(browser).find_elements(By.CSS_SELECTOR, "circle.clamp")) == 1
    history = system.admin("GET", f"/rooms/{event}/history")[1]
    assert history["samples"][-1]["configured"] == 9 and history["decisions"][0]["action"] == "clamp"
    depth = room_section(browser, event).find_element(By.CSS_SELECTOR, ".room-depth-chart")
    assert depth.get_attribute("data-points") == chart(browser).get_attribute("data-points")
    shoot(browser, event, "console-adaptive")

    rate = room_section(browser, event).find_element(By.CSS_SELECTOR, ".room-rate")
    set_field(rate, "3")
    room_section(browser, event).find_element(By.CSS_SELECTOR, ".room-set-rate").click()
    WebDriverWait(browser, 10, poll_frequency=0.2).until(lambda d: room(system, event).get("adaptive") is None)
    assert room(system, event)["release_rate"] == 3
    WebDriverWait(browser, 10, poll_frequency=0.2).until(lambda d: figure(d, event, "adaptive").startswith("Adaptive release: off"))
    assert not room_section(browser, event).find_elements(By.CSS_SELECTOR, ".room-decisions li")


def test_console_charts_the_seats_sold_per_zone_over_the_sale(system, browser):
    event = system.event(ZONES)
    system.admin("POST", f"/rooms/{event}/open")
    token = system.login(system.admin_email, system.admin_password)
    buyer = lambda: {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
    _, booking = system.request("POST", "/api/v1/bookings/reserve", {"event_id": event, "zone_id": "front", "quantity": 2}, buyer())
    _, intent = system.request("POST", "/api/v1/payments/intent", {"booking_id": booking["booking_id"]}, buyer())
    system.request("POST", "/api/v1/payments/intent/confirm", {"payment_id": intent["payment_id"], "payment_method": "pm_card_visa"}, buyer())
    WebDriverWait(browser, 20, poll_frequency=0.3).until(lambda d: inventory(system, event)["front"]["sold"] == 2)

    sign_in(browser, system)
    sales = lambda d: room_section(d, event).find_element(By.CSS_SELECTOR, ".room-sales-chart")
    # A sample every 5 s: wait for one taken after the sale.
    def sold_in_last_sample(_):
        samples = system.as_admin("GET", f"/api/v1/events/{event}/inventory/history")[1]["samples"]
        return bool(samples) and samples[-1]["zones"]["front"]["sold"] == 2
    WebDriverWait(browser, 30, poll_frequency=0.5).until(sold_in_last_sample)
    WebDriverWait(browser, 20, poll_frequency=0.5).until(lambda d: len(sales(d).find_elements(By.CSS_SELECTOR, "polyline")) == 2)
    WebDriverWait(browser, 20, poll_frequency=0.5).until(
        lambda d: float(sales(d).find_element(By.CSS_SELECTOR, "polyline.zone-1").get_attribute("points").split()[-1].split(",")[1]) < 98)
    front_last = sales(browser).find_element(By.CSS_SELECTOR, "polyline.zone-1").get_attribute("points").split()[-1]
    back_last = sales(browser).find_element(By.CSS_SELECTOR, "polyline.zone-0").get_attribute("points").split()[-1]
    assert float(front_last.split(",")[1]) < float(back_last.split(",")[1]), "front rows sold 2, back rows none: front's line is higher"
    legend = lambda d: room_section(d, event).find_element(By.CSS_SELECTOR, ".room-sales-legend").text
    WebDriverWait(browser, 15, poll_frequency=0.5).until(lambda d: "Front rows" in legend(d) and "Back rows" in legend(d))
    shoot(browser, event, "console-sales")


def test_console_admin_token_and_refusals(system, browser):
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        system.request("GET", "/admin/v1/traffic")
    assert anonymous.value.code == 401
    customer = f"customer-{uuid.uuid4().hex[:8]}@example.com"
    system.request("POST", "/api/v1/auth/register", {"email": customer, "password": "customer-password"}, {"Content-Type": "application/json"})
    customer_token = system.login(customer, "customer-password")
    with pytest.raises(urllib.error.HTTPError) as forbidden:
        system.request("GET", "/admin/v1/rooms", headers={"Authorization": f"Bearer {customer_token}"})
    assert forbidden.value.code == 403

    browser.get(system.base + "/admin/")
    browser.find_element(By.ID, "token").send_keys("not-the-admin-token")
    browser.find_element(By.ID, "signin-button").click()
    WebDriverWait(browser, 10).until(lambda d: "not valid" in d.find_element(By.ID, "message").text)
    assert not browser.find_element(By.ID, "console").is_displayed()

    browser.find_element(By.ID, "token").clear()
    browser.find_element(By.ID, "token").send_keys(ADMIN_TOKEN)
    browser.find_element(By.ID, "signin-button").click()
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "section.room .room-zones-note"))
    WebDriverWait(browser, 15).until(lambda d: any(
        "admin account" in note.text for note in d.find_elements(By.CSS_SELECTOR, "section.room .room-zones-note")))


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_console_shows_the_route_table_and_reloads_it(browser, tmp_path):
    """A gateway of its own (the reload changes its routes): the console lists the routes in force
    with their policies; "Reload from file, every gateway" puts an edited file in force (the new
    route answers through the gateway, the Gateways table shows the new table) and refuses a broken
    one, keeping the table."""
    space = new_key_space()
    dev = start_dev(tmp_path, {"REDIS_KEY_SPACE": space})
    path = os.path.join(str(tmp_path), "routes.json")
    try:
        browser.get(dev.base + "/admin/")
        browser.find_element(By.ID, "token").send_keys(ADMIN_TOKEN)
        browser.find_element(By.ID, "signin-button").click()
        WebDriverWait(browser, 15).until(lambda d: d.find_element(By.ID, "routes-generation").text == "1")
        rows = dict(browser.execute_script(
            "return Array.from(document.querySelectorAll('#routes-table tbody tr')).map(r => [r.cells[0].textContent, r.textContent])"))
        assert "queue pass" in rows["bookings-reserve"] and "Idempotency-Key required" in rows["bookings-reserve"], rows
        assert path in browser.find_element(By.ID, "routes-source").text
        assert status_of(dev.base + "/api/v1/extra/x") == 404

        table = json.load(open(path))
        table["routes"].append({"name": "extra-route", "prefix": "/api/v1/extra", "upstreams": ["http://127.0.0.1:1"]})
        with open(path, "w") as file:
            json.dump(table, file)
        browser.find_element(By.ID, "routes-reload").click()
        WebDriverWait(browser, 10).until(lambda d: "generation 2" in d.find_element(By.ID, "message").text)
        assert browser.find_element(By.ID, "routes-generation").text == "2"
        assert "extra-route" in browser.find_element(By.ID, "routes-table").text
        assert status_of(dev.base + "/api/v1/extra/x") == 502, "the new route is in force: its upstream is down"
        digest = browser.find_element(By.ID, "routes-digest").text
        WebDriverWait(browser, 10).until(lambda d: f"{digest} · gen 2" in d.find_element(By.ID, "traffic-instances").text)
        assert "differs" not in browser.find_element(By.ID, "traffic-instances").text

        with open(path, "w") as file:
            file.write('{"routes": [{"name": "broken"')
        browser.find_element(By.ID, "routes-reload").click()
        WebDriverWait(browser, 10).until(lambda d: "table in force stays" in d.find_element(By.ID, "message").text)
        assert browser.find_element(By.ID, "routes-generation").text == "2"
        assert status_of(dev.base + "/api/v1/extra/x") == 502
        browser.execute_script("arguments[0].scrollIntoView()", browser.find_element(By.ID, "routes"))
        screenshot(browser, "console-route-table")
    finally:
        stop(dev.process)
        delete_key_space(space)
