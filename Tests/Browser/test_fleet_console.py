"""The operator console of one gateway shows the traffic of the whole fleet: three gateway
processes of one fleet (pooled through Redis) take different shares of the requests, and the
console on the first lists every instance with its share and the route's total across all three."""
import json
import threading
import time
import urllib.request
import uuid
from http.server import ThreadingHTTPServer

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import ADMIN_TOKEN, free_port, screenshot, start, stop
from test_faults import call
from test_fleet import QuickUpstream

SHARES = [6, 12, 24]


def rows(driver, table: str) -> dict:
    """The table's rows by their first cell, read in one script call (the console redraws every second)."""
    cells = driver.execute_script(
        "return Array.from(document.querySelectorAll('#' + arguments[0] + ' tbody tr'))"
        ".map(function (row) { return Array.from(row.cells).map(function (cell) { return cell.textContent; }); });", table)
    return {row[0]: row[1:] for row in cells if row}


def test_the_console_sums_the_traffic_of_three_gateways(tmp_path, browser):
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), QuickUpstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    route = "quick-" + uuid.uuid4().hex[:6]
    routes = tmp_path / "routes.json"
    routes.write_text(json.dumps({"routes": [{"name": route, "prefix": "/api/quick", "upstreams": [f"http://127.0.0.1:{upstream.server_port}"]}]}))
    fleet = "console-" + uuid.uuid4().hex[:8]
    ports = [free_port() for _ in range(3)]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    gateways = []
    try:
        for index, (port, base) in enumerate(zip(ports, bases)):
            environment = {"ADMIN_TOKEN": ADMIN_TOKEN, "GATEWAY_FLEET": fleet, "GATEWAY_INSTANCE": f"{fleet}-gw{index + 1}"}
            gateways.append(start(["gateway", "--port", str(port), "--routes", str(routes), "--without-accounts"], environment, base))
        for base, share in zip(bases, SHARES):
            for number in range(share):
                assert call(f"{base}/api/quick/{number}")[0] == 200

        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        own_share = lambda: [r["total"] for r in call(f"{bases[0]}/admin/v1/traffic?scope=instance", headers=admin)[1]["routes"] if r["route"] == route]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and own_share() != [SHARES[0]]:
            time.sleep(0.2)  # a second is reported once it is over, and the share may span two
        assert own_share() == [SHARES[0]], "one instance sees its own share"
        fleet_total = lambda: [r["total"] for r in call(f"{bases[0]}/admin/v1/traffic", headers=admin)[1]["routes"] if r["route"] == route]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and fleet_total() != [sum(SHARES)]:
            time.sleep(0.2)  # each instance reports its finished seconds every half second
        assert fleet_total() == [sum(SHARES)], "the fleet's report sums all three shares"

        browser.get(bases[0] + "/admin/")
        WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "signin").is_displayed())
        browser.find_element(By.ID, "token").send_keys(ADMIN_TOKEN)
        browser.find_element(By.ID, "signin-button").click()
        WebDriverWait(browser, 15).until(lambda d: d.find_element(By.ID, "console").is_displayed())
        names = {f"{fleet}-gw{index + 1}" for index in range(3)}
        WebDriverWait(browser, 15, poll_frequency=0.3).until(lambda d: names <= set(rows(d, "traffic-instances")))
        assert browser.find_element(By.ID, "traffic-scope").text == "all 3 gateways of the fleet"
        assert not browser.find_element(By.ID, "message").is_displayed(), browser.find_element(By.ID, "message").text
        assert browser.find_element(By.ID, "updated").text != "—", "the refresh completes"
        WebDriverWait(browser, 10, poll_frequency=0.3).until(lambda d: rows(d, "traffic-routes").get(route, [""])[0] == "0.7")
        routes_shown = rows(browser, "traffic-routes")
        assert routes_shown[route][0] == "0.7", f"{sum(SHARES)} requests over 60 s across the fleet, shown {routes_shown[route]}"
        assert routes_shown[route][5].endswith(" ms"), "the p99 is shown"
        assert all(cells[3].endswith(" s ago") for cells in rows(browser, "traffic-instances").values())
        screenshot(browser, "console-fleet-traffic")

        _, body, _ = call(f"{bases[1]}/admin/v1/traffic", headers=admin)
        assert [r["total"] for r in body["routes"] if r["route"] == route] == [sum(SHARES)], "every instance answers the fleet's sum"
        totals = {instance["instance"]: instance["total"] for instance in body["instances"]}
        # Each instance's total also counts its health checks; the first also serves the console,
        # its assets and its several calls a second, so only its floor is known.
        assert totals[f"{fleet}-gw1"] >= SHARES[0], totals
        for index, share in enumerate(SHARES[1:], start=1):
            assert share <= totals[f"{fleet}-gw{index + 1}"] <= share + 5, totals
        stop(gateways.pop())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(call(f"{bases[0]}/admin/v1/traffic", headers=admin)[1]["instances"]) == 3:
            time.sleep(0.5)
        _, body, _ = call(f"{bases[0]}/admin/v1/traffic", headers=admin)
        assert sorted(i["instance"] for i in body["instances"]) == [f"{fleet}-gw1", f"{fleet}-gw2"], "a stopped instance leaves the fleet"
        WebDriverWait(browser, 10, poll_frequency=0.3).until(lambda d: len(rows(d, "traffic-instances")) == 2)
        assert browser.find_element(By.ID, "traffic-scope").text == "all 2 gateways of the fleet"

        # A second process started under gw2's name: both find it out; the console flags the row.
        twin_port = free_port()
        environment = {"ADMIN_TOKEN": ADMIN_TOKEN, "GATEWAY_FLEET": fleet, "GATEWAY_INSTANCE": f"{fleet}-gw2"}
        gateways.append(start(["gateway", "--port", str(twin_port), "--routes", str(routes), "--without-accounts"], environment,
                              f"http://127.0.0.1:{twin_port}"))
        shared = lambda d: [name for name in rows(d, "traffic-instances") if "name shared by two gateway processes" in name]
        WebDriverWait(browser, 15, poll_frequency=0.3).until(lambda d: shared(d) != [])
        assert shared(browser) == [f"{fleet}-gw2 (name shared by two gateway processes: give each its own GATEWAY_INSTANCE)"]
        _, body, _ = call(f"{bases[0]}/admin/v1/traffic", headers=admin)
        assert {i["instance"]: i["name_shared"] for i in body["instances"]} == {f"{fleet}-gw1": False, f"{fleet}-gw2": True}
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{twin_port}/metrics", timeout=10).read().decode()
        assert f'gateway_fleet_instance_name_shared{{name="{fleet}-gw2"}} 1' in metrics, "the newcomer counts it too"
        stop(gateways.pop())
        WebDriverWait(browser, 15, poll_frequency=0.3).until(lambda d: shared(d) == [] and f"{fleet}-gw2" in rows(d, "traffic-instances"))
    finally:
        for gateway in gateways:
            stop(gateway)
        upstream.shutdown()
