"""The customer flow in a real headless Chromium against `booking-rush dev`: event page → waiting
room → sign up → reserve → pay with a test card → confirmation; and a declined card releasing the seats."""
import re
import uuid

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import screenshot

ZONES = [
    {"id": "front", "name": "Front rows", "price_minor": 12000, "currency": "EUR", "capacity": 10},
    {"id": "back", "name": "Back rows", "price_minor": 4500, "currency": "EUR", "capacity": 40},
]


def visible(driver, element_id: str) -> bool:
    return driver.find_element(By.ID, element_id).is_displayed()


def wait_for(driver, element_id: str, timeout: float = 20):
    WebDriverWait(driver, timeout, poll_frequency=0.2).until(lambda d: visible(d, element_id))


def seats_left(driver, zone: str) -> int:
    return int(driver.find_element(By.CSS_SELECTOR, f'#zones tr[data-zone="{zone}"] td:last-child').text)


def reserve(driver, zone: str, quantity: int):
    Select(driver.find_element(By.ID, "zone")).select_by_value(zone)
    field = driver.find_element(By.ID, "quantity")
    field.clear()
    field.send_keys(str(quantity))
    driver.find_element(By.ID, "reserve-button").click()
    wait_for(driver, "pay")


def inventory(system, event: str) -> dict:
    _, body = system.as_admin("GET", f"/api/v1/events/{event}/inventory")
    return {zone["id"]: zone for zone in body["zones"]}


def test_visitor_books_and_pays_through_the_gateway(system, browser):
    event = system.event(ZONES)
    system.admin("POST", f"/rooms/{event}/pause")
    for _ in range(2):
        system.request("POST", f"/api/v1/queue/{event}/join")

    browser.get(f"{system.base}/shop/{event}")
    wait_for(browser, "queue")
    assert browser.find_element(By.ID, "event-name").text == f"Browser test {event}"
    assert seats_left(browser, "front") == 10 and seats_left(browser, "back") == 40
    screenshot(browser, "shop-event")

    browser.find_element(By.ID, "join").click()
    WebDriverWait(browser, 10).until(lambda d: "/waiting-room/" in d.current_url)
    assert int(browser.find_element(By.ID, "position").text) == 3, "two visitors joined first"
    screenshot(browser, "shop-waiting-room")
    system.admin("POST", f"/rooms/{event}/resume")

    wait_for(browser, "signin", timeout=30)
    assert browser.current_url == f"{system.base}/shop/{event}", "the pass never travels in a URL"
    assert browser.get_cookie(f"br_pass_{event}")["httpOnly"], "it is handed over by cookie"
    email = f"fan-{uuid.uuid4().hex[:8]}@example.com"
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys("correct horse battery")
    browser.find_element(By.ID, "register").click()
    wait_for(browser, "reserve")
    assert email in browser.find_element(By.ID, "who").text

    reserve(browser, "front", 2)
    assert "2 × Front rows" in browser.find_element(By.ID, "hold-summary").text
    assert re.match(r"\d+:\d\d", browser.find_element(By.ID, "hold-countdown").text)
    assert seats_left(browser, "front") == 8
    assert inventory(system, event)["front"]["held"] == 2
    screenshot(browser, "shop-hold")

    browser.find_element(By.ID, "pay-button").click()
    wait_for(browser, "done", timeout=30)
    code = browser.find_element(By.ID, "confirmation-code").text
    assert re.fullmatch(r"BR-[A-Z0-9]+", code), code
    screenshot(browser, "shop-confirmed")
    front = inventory(system, event)["front"]
    assert (front["sold"], front["held"], front["available"]) == (2, 0, 8)

    # A declined card: the saga cancels the booking and the seats go back on sale.
    browser.find_element(By.ID, "again").click()
    wait_for(browser, "reserve")
    reserve(browser, "back", 1)
    card = browser.find_element(By.ID, "card")
    card.clear()
    card.send_keys("4000 0000 0000 0002")
    browser.find_element(By.ID, "pay-button").click()
    WebDriverWait(browser, 30, poll_frequency=0.2).until(
        lambda d: "cancelled" in d.find_element(By.ID, "message").text and visible(d, "reserve"))
    screenshot(browser, "shop-declined")
    back = inventory(system, event)["back"]
    assert (back["sold"], back["held"], back["available"]) == (0, 0, 40)

    # Giving seats back: "Release seats" cancels the hold through the gateway, which needs no pass for it.
    reserve(browser, "back", 3)
    assert inventory(system, event)["back"]["held"] == 3
    browser.find_element(By.ID, "cancel-button").click()
    WebDriverWait(browser, 15, poll_frequency=0.2).until(
        lambda d: "Seats released" in d.find_element(By.ID, "message").text and visible(d, "reserve"))
    screenshot(browser, "shop-released")
    back = inventory(system, event)["back"]
    assert (back["sold"], back["held"], back["available"]) == (0, 0, 40)
    assert seats_left(browser, "back") == 40


def test_shop_lists_events_and_refuses_reserving_without_a_pass(system, browser):
    event = system.event(ZONES)
    browser.get(system.base + "/")
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'a[href="/shop/{event}"]'))
    system.as_admin("GET", "/api/v1/events")
    token = system.admin_access_token
    status = None
    try:
        system.request("POST", "/api/v1/bookings/reserve", {"event_id": event, "zone_id": "back", "quantity": 1},
                       {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex})
    except Exception as error:  # urllib raises HTTPError for 4xx
        status = error.code
    assert status == 403, "the room queues, so reserving needs a queue pass"
