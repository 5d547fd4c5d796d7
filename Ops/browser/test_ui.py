#!/usr/bin/env python3
"""Tandem's web UI in headless Chromium (Selenium): log in, create an integration through the forms, run it, see a
real failed item, fix the collection's field mapping, retry the item and see it done, check the metrics chart.

Environment: TANDEM_UI_URL, TANDEM_UI_USER, TANDEM_UI_PASSWORD_FILE, TANDEM_SIMULATOR_URL, TANDEM_SCREENSHOTS
(directory), TANDEM_BROWSER_HEADED=1 to watch. Exits non-zero on the first failed step (with a screenshot of it).
"""
import json
import os
import sys
import time
import traceback
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = os.environ["TANDEM_UI_URL"].rstrip("/")
USER = os.environ["TANDEM_UI_USER"]
with open(os.environ["TANDEM_UI_PASSWORD_FILE"]) as f:
    PASSWORD = f.readline().strip()
SIM = os.environ["TANDEM_SIMULATOR_URL"].rstrip("/")
SHOTS = os.environ["TANDEM_SCREENSHOTS"]
DEADLINE = 120  # seconds for the cluster to act (generous: the machine is shared)

step_number = 0


def make_driver():
    options = webdriver.ChromeOptions()
    if os.environ.get("TANDEM_BROWSER_HEADED") != "1":
        options.add_argument("--headless=new")
    for arg in ("--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000", "--disable-gpu", "--no-first-run"):
        options.add_argument(arg)
    if os.path.exists("/usr/bin/chromium"):
        options.binary_location = "/usr/bin/chromium"
    driver_path = "/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None
    return webdriver.Chrome(options=options, service=Service(executable_path=driver_path) if driver_path else Service())


def shot(driver, name):
    global step_number
    step_number += 1
    path = os.path.join(SHOTS, f"{step_number:02d}-{name}.png")
    driver.save_screenshot(path)
    print(f"  screenshot {path}")


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def wait_for(driver, what, predicate, timeout=DEADLINE, reload=True, interval=1.5):
    """Reloads the page until predicate(driver) is true."""
    start = time.time()
    while True:
        try:
            if predicate(driver):
                return time.time() - start
        except WebDriverException:
            pass
        if time.time() - start > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
        if reload:
            driver.refresh()


def retrying(what, action, attempts=4, retry=True):
    """Runs action(), again after a short pause when Chromium answers "Node with given id does not belong to the
    document" or a stale element: the page was still settling after a navigation (CI saw it once on the login page).
    action finds its element afresh each time; any other error fails at once."""
    for attempt in range(attempts):
        try:
            return action()
        except (StaleElementReferenceException, WebDriverException) as error:
            if not retry or not transient_error(error) or attempt == attempts - 1:
                raise
            print(f"  (retrying {what}: {first_line(error)})")
            time.sleep(0.5)


def submit(driver, target):
    """Clicks a submit button or link and waits for the next page (the old one gone, the new one loaded). target is an
    element or a locator (By…, value); only a locator is retried (see retrying)."""
    def press():
        old = driver.find_element(By.TAG_NAME, "html")
        (driver.find_element(*target) if isinstance(target, tuple) else target).click()
        return old
    old = retrying(f"the click on {target[1] if isinstance(target, tuple) else 'an element'}", press, retry=isinstance(target, tuple))
    WebDriverWait(driver, 30).until(expected_conditions.staleness_of(old))
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")


def click(driver, locator):
    """Clicks an element on the current page (no navigation)."""
    retrying(f"the click on {locator[1]}", lambda: driver.find_element(*locator).click())


def first_line(error):
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def transient_error(error):
    return isinstance(error, StaleElementReferenceException) or "does not belong to the document" in str(error)


def text(driver):
    return driver.find_element(By.TAG_NAME, "body").text


def no_error_page(driver, where):
    body = text(driver)
    check("Something went wrong" not in body, f"{where}: the server answered with an error page")


def set_field(driver, name, value):
    """Fills a form field (a select by its value)."""
    def fill():
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
        element = driver.find_element(By.NAME, name)
        if element.tag_name == "select":
            Select(element).select_by_value(value)
        else:
            element.clear()
            element.send_keys(value)
            check(element.get_attribute("value") == value, f"field {name} did not take the value typed")
    retrying(f"field {name}", fill)


def main():
    driver = make_driver()
    failed_row = None
    try:
        print("1. log in")
        driver.get(BASE + "/")
        check("/ui/login" in driver.current_url, f"not sent to the login page: {driver.current_url}")
        shot(driver, "login")
        set_field(driver, "username", USER)
        set_field(driver, "password", "wrong-password")
        submit(driver, (By.ID, "login"))
        check("Wrong user name or password" in text(driver), "a wrong password was not refused")
        set_field(driver, "password", PASSWORD)
        submit(driver, (By.ID, "login"))
        check(driver.current_url.rstrip("/").endswith("/ui"), f"login did not reach the dashboard: {driver.current_url}")
        check("Hello" in text(driver), "no greeting on the dashboard")
        shot(driver, "dashboard")

        print("2. create an integration through the form")
        driver.get(BASE + "/ui/integrations")
        submit(driver, (By.ID, "new-integration"))
        set_field(driver, "name", "items")
        set_field(driver, "left", "left-items")
        set_field(driver, "right", "right-items")
        set_field(driver, "creation", "left-to-right")
        shot(driver, "integration-form")
        submit(driver, (By.ID, "save"))
        no_error_page(driver, "creating the integration")
        check("Created integration 'items'" in text(driver), f"no confirmation: {text(driver)[:300]}")
        check(driver.find_elements(By.CSS_SELECTOR, "table.flow-table"), "no field-flow table on the integration's page")
        shot(driver, "integration-created")
        submit(driver, (By.XPATH, "//button[normalize-space()='Run']"))
        check("is running" in text(driver), "the integration did not start")
        shot(driver, "integration-running")

        print("3. an artifact on the left fails to sync (the right collection maps status to a field that does not exist)")
        request = urllib.request.Request(
            SIM + "/repos/left/seed", data=json.dumps({"project": "left", "count": 1, "titlePrefix": "Browser test"}).encode(),
            headers={"Content-Type": "application/json"}, method="POST")
        urllib.request.urlopen(request, timeout=30).read()
        driver.get(BASE + "/ui/activity?status=open")
        waited = wait_for(driver, "a failed item in the activity list",
                          lambda d: d.find_elements(By.CSS_SELECTOR, "#activity input[name='id'][data-error='1']"))
        print(f"  failed item listed after {waited:.1f} s")
        failed_row = driver.find_element(By.CSS_SELECTOR, "#activity tbody tr")
        row_id = failed_row.get_attribute("data-id")
        check("In error" in failed_row.text, f"the row is not in error: {failed_row.text}")
        print(f"  item {row_id}: {failed_row.text.splitlines()[-1] if failed_row.text else ''}")
        shot(driver, "activity-failed-item")

        print("4. fix the field mapping in the right collection's form")
        driver.get(BASE + "/ui/collections/right-items")
        inputs = driver.find_elements(By.CSS_SELECTOR, "input[name^='fields.'][name$='.field']")
        state = [i for i in inputs if i.get_attribute("value") == "state"]
        check(state, "the collection form does not show the mapping of 'state'")
        state[0].clear()
        state[0].send_keys("status")
        submit(driver, (By.ID, "save"))
        no_error_page(driver, "saving the collection")
        check("Saved collection 'right-items'" in text(driver), f"the collection was not saved: {text(driver)[:300]}")
        shot(driver, "collection-fixed")

        print("5. retry the item with the gear menu")
        driver.get(BASE + "/ui/activity?status=open")
        click(driver, (By.CSS_SELECTOR, f"#activity input[name='id'][value='{row_id}']"))
        click(driver, (By.ID, "gear"))
        check(driver.find_element(By.ID, "action-clear").is_enabled(), "Clear Errors is not offered for an item in error")
        shot(driver, "gear-menu")
        submit(driver, (By.ID, "action-retry"))
        check("Queued a retry of 1 item" in text(driver), f"no retry confirmation: {text(driver)[:300]}")
        shot(driver, "retried")
        driver.get(BASE + f"/ui/activity/{row_id}")
        waited = wait_for(driver, "the retried item to be done", lambda d: "Done" in d.find_element(By.CSS_SELECTOR, "dl.facts").text)
        check(USER in text(driver), "the item does not show who retried it")
        print(f"  item {row_id} done {waited:.1f} s after the retry")
        shot(driver, "item-done")
        driver.get(BASE + "/ui/activity?status=open")
        check(not driver.find_elements(By.CSS_SELECTOR, f"#activity tr[data-id='{row_id}']"), "the item is still listed in error")

        print("6. the metrics chart")
        driver.get(BASE + "/ui/metrics?days=7&metric=created")
        no_error_page(driver, "the metrics page")
        bars = driver.find_elements(By.CSS_SELECTOR, "svg#daily-chart rect.bar-now")
        check(len(bars) == 7, f"expected 7 bars for 7 days, found {len(bars)}")
        values = [int(b.get_attribute("data-value")) for b in bars]
        check(values[-1] >= 1, f"today's bar does not count the created twin: {values}")
        check(float(bars[-1].get_attribute("height")) > 0, "today's bar has no height")
        check(driver.find_elements(By.CSS_SELECTOR, "svg#weekday-chart circle.bubble"), "the weekday × hour chart has no bubble")
        print(f"  created per day: {values}")
        shot(driver, "metrics")
        load = driver.find_element(By.ID, "load-integrations")
        check("items" in load.text and "left ⇄ right" in load.text, f"the load table does not show the integration: {load.text}")
        driver.execute_script("arguments[0].scrollIntoView()", load)
        shot(driver, "metrics-load")

        print("7. queues and workers")
        driver.get(BASE + "/ui/queues")
        no_error_page(driver, "the queues page")
        check("browser-worker" in text(driver), "the worker is not listed")
        shot(driver, "queues")
        print("8. a tour of the other pages")
        for path, name in [("/ui", "dashboard-after"), ("/ui/repositories", "repositories"), ("/ui/repositories/left", "repository-form"),
                           ("/ui/models/Item", "model-form"), ("/ui/collections", "collections"), ("/ui/integrations", "integrations"),
                           ("/ui/integrations/items/json", "integration-json"),
                           ("/ui/collections/right-items/history", "collection-history"), ("/ui/audit", "audit-log"),
                           ("/ui/settings", "settings"), ("/ui/users", "users"), ("/ui/pairs", "pairs")]:
            driver.get(BASE + path)
            no_error_page(driver, path)
            check(driver.find_elements(By.CSS_SELECTOR, "main header.page h1"), f"{path}: no page header")
            shot(driver, name)
        pair_links = driver.find_elements(By.CSS_SELECTOR, "a[href^='/ui/pairs/']")
        check(pair_links, "the created twin's pair is not listed")
        submit(driver, pair_links[0])
        check("Artifact pair #" in text(driver) and "in sync" in text(driver), "the pair's page does not show it in sync")
        shot(driver, "pair")

        print("9. your account: create an API token, shown once")
        driver.get(BASE + "/ui/account")
        set_field(driver, "name", "browser token")
        submit(driver, (By.ID, "create-token"))
        token = driver.find_element(By.CSS_SELECTOR, "#new-token pre.token").text.strip()
        check(len(token) >= 30, f"no token shown: {text(driver)[:300]}")
        check("browser token" in driver.find_element(By.ID, "tokens").text, "the new token is not listed")
        shot(driver, "account-token")
        request = urllib.request.Request(BASE + "/api/v1/me", headers={"Authorization": "Token " + token})
        me = json.loads(urllib.request.urlopen(request, timeout=30).read())
        check(me["user"]["username"] == USER, f"the token does not act as {USER}: {me}")

        print("10. the same pages in the dark colour scheme")
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        driver.get(BASE + "/ui/activity")
        shot(driver, "activity-dark")
        driver.get(BASE + "/ui/integrations/items")
        shot(driver, "integration-dark")
        print("all steps passed")
        return 0
    except Exception as error:  # noqa: BLE001 — any failure fails the test, with a screenshot of where it happened
        print(f"FAILED: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}", file=sys.stderr)
        traceback.print_exc(limit=-3, file=sys.stderr)  # where in this script it failed
        try:
            shot(driver, "failure")
        except WebDriverException:
            pass
        return 1
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
