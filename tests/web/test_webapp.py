"""The Tessera web app in a real browser: Debian's Chromium driven by Playwright for
Python, against the debug binary on memory storage, with every request to another origin
blocked (the app must work offline). The mail tests give the server an SMTP server in this
process (aiosmtpd on 127.0.0.1) that keeps what it receives, and follow its links.

Run by `make test-web` (part of `make test`). TESSERA_BIN names the binary (default:
the debug build in cargo's target directory, which honours CARGO_TARGET_DIR); CHROMIUM
the browser (default /usr/bin/chromium); WEB_SCREENSHOTS where the phone and
desktop screenshots go (default .tessera/screenshots; `make screenshots` writes
docs/screenshots/).
"""

from __future__ import annotations

import email as mail_parser
import html
import json
import os
import re
import shlex
import socket
import subprocess
import threading
import time
import urllib.request
import uuid
from email.message import EmailMessage
from email.policy import default as mail_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]


def tessera_binary() -> Path:
    """TESSERA_BIN, else the debug binary in the target directory cargo builds into."""
    if os.environ.get("TESSERA_BIN"):
        return Path(os.environ["TESSERA_BIN"])
    metadata = subprocess.run(
        [*shlex.split(os.environ.get("CARGO", "cargo")), "metadata", "--format-version", "1", "--no-deps"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )
    return Path(json.loads(metadata.stdout)["target_directory"]) / "debug/tessera"


BINARY = tessera_binary()
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Screenshots go to .tessera/screenshots (git-ignored) unless WEB_SCREENSHOTS names
# another folder: `make screenshots` writes those of docs/screenshots.
SHOTS = Path(os.environ.get("WEB_SCREENSHOTS", ROOT / ".tessera/screenshots"))
AXE = (Path(__file__).parent / "vendor/axe.min.js").read_text()
PASSWORD = "a-long-web-password-42"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(extra: dict[str, str] | None = None, smtp_port: int | None = None) -> tuple[str, subprocess.Popen]:
    """Tessera on memory storage at a free port; with `smtp_port`, sending its mail there,
    its links starting with the address the browser uses."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    mail = {} if smtp_port is None else {
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}?tls=none",
        "PUBLIC_URL": url,
    }
    env = {
        "PATH": os.environ.get("PATH", ""),
        "STORAGE": "memory",
        "JWT_SECRET": "web-test-secret-" + uuid.uuid4().hex,
        "BCRYPT_COST": "4",
        "PORT": str(port),
        "AUTH_RATE_LIMIT_PER_MINUTE": "0",
        "RUST_LOG": "warn",
        **mail,
        **(extra or {}),
    }
    if not BINARY.is_file():
        pytest.fail(f"no Tessera binary at {BINARY}: `cargo build -p tessera --bin tessera`, or set TESSERA_BIN")
    server = subprocess.Popen([str(BINARY), "serve"], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/health", timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    return url, server


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=40)


@pytest.fixture(scope="session")
def base() -> str:
    url, server = start_server()
    yield url
    stop(server)


class MailCatcher:
    """An SMTP server in the test process that keeps every message it is given."""

    def __init__(self):
        self.port = free_port()
        self._messages: list[tuple[list[str], EmailMessage]] = []
        self._lock = threading.Lock()
        # A fixed greeting name: the default looks up this machine's FQDN, which can hang.
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, server_hostname="localhost")

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    async def handle_DATA(self, server, session, envelope) -> str:
        # aiosmtpd calls the handler's handle_DATA with each message received.
        message = mail_parser.message_from_bytes(envelope.content, policy=mail_policy)
        with self._lock:
            self._messages.append(([to.lower() for to in envelope.rcpt_tos], message))
        return "250 Message accepted for delivery"

    def take(self, to: str, subject: str, timeout: float = 15.0) -> EmailMessage:
        """The oldest message to `to` with `subject` not taken yet, waiting up to `timeout`
        seconds for it (the server sends from a background queue)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                for index, (recipients, message) in enumerate(self._messages):
                    if to.lower() in recipients and message["Subject"] == subject:
                        del self._messages[index]
                        return message
                seen = [(r, m["Subject"]) for r, m in self._messages]
            if time.monotonic() > deadline:
                pytest.fail(f"no mail {subject!r} to {to} within {timeout} s; waiting: {seen}")
            time.sleep(0.1)


def link_in(message: EmailMessage, public_url: str, page: str) -> str:
    """The one link of a Tessera mail, `{PUBLIC_URL}/#/{page}?token=<43 base64url>`, the
    same in its text and its HTML part."""
    pattern = re.compile(re.escape(public_url) + "/#/" + re.escape(page) + r"\?token=[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")
    links = []
    for kind in ("plain", "html"):
        part = message.get_body(preferencelist=(kind,))
        assert part is not None and part.get_content_subtype() == kind, f"no text/{kind} part in {message['Subject']!r}"
        content = part.get_content()
        found = pattern.findall(html.unescape(content) if kind == "html" else content)
        assert found, f"no {page} link in the text/{kind} part: {content!r}"
        links.extend(found)
    assert len(set(links)) == 1, links
    return links[0]


@pytest.fixture(scope="session")
def mail() -> MailCatcher:
    catcher = MailCatcher()
    catcher.start()
    yield catcher
    catcher.stop()


@pytest.fixture(scope="session")
def mail_base(mail: MailCatcher) -> str:
    """A server that sends its mail to `mail`."""
    url, server = start_server(smtp_port=mail.port)
    yield url
    stop(server)


@pytest.fixture(scope="session")
def browser() -> Browser:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


class Offline:
    """A browser context in which only the app's own origin answers."""

    def __init__(self, browser: Browser, base: str, **options):
        self.context: BrowserContext = browser.new_context(**options)
        self.blocked: list[str] = []

        def only_own_origin(route):
            if route.request.url.startswith(base):
                route.continue_()
            else:
                self.blocked.append(route.request.url)
                route.abort()

        self.context.route("**/*", only_own_origin)
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" and "401" not in m.text
                     and "400" not in m.text and "404" not in m.text else None)

    def close(self) -> None:
        """Closes the context, once it has loaded nothing from elsewhere and broken no policy."""
        assert self.blocked == [], f"requests to other origins: {self.blocked}"
        assert not [e for e in self.errors if "Content Security Policy" in e], self.errors
        self.context.close()


@pytest.fixture
def tab(browser: Browser, base: str):
    offline = Offline(browser, base)
    yield offline
    assert offline.blocked == [], f"requests to other origins: {offline.blocked}"
    assert not [e for e in offline.errors if "Content Security Policy" in e], offline.errors
    offline.context.close()


def email() -> str:
    return f"web-{uuid.uuid4().hex[:10]}@example.com"


def sign_up(page: Page, base: str, name: str, address: str, keep: bool = False) -> None:
    page.goto(base + "/#/signup")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Email", exact=True).fill(address)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    if keep:
        page.get_by_label("Keep me signed in", exact=True).check()
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()


def sign_in(page: Page, base: str, address: str, password: str = PASSWORD, keep: bool = False) -> None:
    page.goto(base + "/#/signin")
    page.get_by_label("Email", exact=True).fill(address)
    page.get_by_label("Password", exact=True).fill(password)
    if keep:
        page.get_by_label("Keep me signed in", exact=True).check()
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()


def accessible(page: Page, name: str) -> None:
    # Evaluated through the DevTools protocol, which the page's CSP does not govern.
    page.evaluate(AXE)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [(v["id"], v["impact"], len(v["nodes"])) for v in result["violations"]
           if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{name}: {bad}"


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    viewport = page.evaluate("() => window.innerWidth")
    assert width <= viewport, f"scrollWidth {width} > {viewport}"


def test_signup_shows_the_api_field_message_beside_the_field(tab: Offline, base: str):
    page = tab.page
    page.goto(base + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    accessible(page, "sign in")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Name", exact=True).fill("Web User")
    page.get_by_label("Email", exact=True).fill("not-an-email")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_role("button", name="Create account").click()
    email_error = page.locator('[data-error-for="email"]')
    expect(email_error).to_have_text("Please enter a valid email")
    expect(page.locator('[data-error-for="password"]')).to_have_text("Password must be at least 8 characters")
    expect(page.get_by_label("Email", exact=True)).to_have_attribute("aria-invalid", "true")
    accessible(page, "sign up with errors")


def test_tasks_create_edit_complete_filter_page_and_delete(tab: Offline, base: str):
    page = tab.page
    sign_up(page, base, "Task Person", email())
    expect(page.get_by_text("No tasks yet. Add one above.")).to_be_visible()
    for n in range(12):
        page.get_by_label("New task", exact=True).fill(f"Task {n:02d}")
        page.get_by_role("button", name="Add task").click()
        expect(page.locator(".item .title").first).to_have_text(f"Task {n:02d}")
    expect(page.get_by_role("status").filter(has_text="of 12")).to_have_text("1–10 of 12")
    page.get_by_role("button", name="Next page").click()
    expect(page.get_by_text("11–12 of 12")).to_be_visible()
    page.get_by_role("button", name="Previous page").click()
    expect(page.get_by_text("1–10 of 12")).to_be_visible()

    page.get_by_role("button", name="Edit “Task 11”").click()
    page.get_by_label("Title", exact=True).fill("Buy groceries")
    page.get_by_label("Description", exact=True).fill("Milk, eggs, bread")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".item .title").first).to_have_text("Buy groceries")
    expect(page.get_by_text("Milk, eggs, bread")).to_be_visible()

    page.get_by_role("button", name="Complete “Buy groceries”").click()
    expect(page.get_by_role("button", name="Reopen “Buy groceries”")).to_be_visible()
    page.get_by_label("Show", exact=True).select_option("completed")
    expect(page.get_by_text("1–1 of 1")).to_be_visible()
    page.get_by_label("Show", exact=True).select_option("pending")
    expect(page.get_by_text("1–10 of 11")).to_be_visible()
    page.get_by_label("Show", exact=True).select_option("all")

    page.get_by_role("button", name="Delete “Task 10”").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("1–10 of 12")).to_be_visible()
    page.get_by_role("button", name="Delete “Task 10”").click()
    page.get_by_role("button", name="Yes, delete").click()
    expect(page.get_by_text("1–10 of 11")).to_be_visible()
    expect(page.get_by_text("Task 10", exact=True)).to_have_count(0)
    accessible(page, "tasks")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SHOTS / "tasks-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 800})
    page.screenshot(path=str(SHOTS / "tasks-phone.png"), full_page=True)


def test_keep_me_signed_in_survives_a_new_context_and_its_absence_does_not(browser: Browser, base: str):
    kept, gone = email(), email()
    first = Offline(browser, base)
    sign_up(first.page, base, "Keeper", kept, keep=True)
    first.page.reload()
    expect(first.page.get_by_role("heading", name="Tasks")).to_be_visible()
    state = first.context.storage_state()
    first.context.close()
    # localStorage carries over to a new context with the same storage.
    again = Offline(browser, base, storage_state=state)
    again.page.goto(base + "/")
    expect(again.page.get_by_role("heading", name="Tasks")).to_be_visible()
    again.context.close()

    second = Offline(browser, base)
    sign_up(second.page, base, "Forgetter", gone, keep=False)
    second.page.reload()
    expect(second.page.get_by_role("heading", name="Tasks")).to_be_visible()
    state = second.context.storage_state()
    second.context.close()
    fresh = Offline(browser, base, storage_state=state)
    fresh.page.goto(base + "/")
    expect(fresh.page.get_by_role("heading", name="Sign in")).to_be_visible()
    fresh.context.close()


def test_account_name_password_sessions_and_deletion(browser: Browser, base: str):
    address = email()
    one = Offline(browser, base)
    page = one.page
    sign_up(page, base, "Account Person", address)
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", name="Account", exact=True)).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Renamed Person")
    page.get_by_role("button", name="Save name").click()
    expect(page.get_by_text("Name saved.")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Renamed Person")

    # A second device.
    two = Offline(browser, base)
    sign_in(two.page, base, address)
    page.reload()
    sessions = page.locator("[data-session-id]")
    expect(sessions).to_have_count(2)
    expect(page.locator(".badge", has_text="This device")).to_have_count(1)
    accessible(page, "account")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SHOTS / "account-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 800})
    page.screenshot(path=str(SHOTS / "account-phone.png"), full_page=True)
    page.get_by_role("button", name="End the session from 127.0.0.1").click()
    expect(sessions).to_have_count(1)
    # The other device's next action returns it to sign-in.
    two.page.get_by_label("New task", exact=True).fill("From the ended device")
    two.page.get_by_role("button", name="Add task").click()
    expect(two.page.get_by_role("heading", name="Sign in")).to_be_visible()
    two.context.close()

    # Password: a wrong current one shows the API's message; the right one works.
    page.get_by_label("Current password", exact=True).fill("not-the-password")
    page.get_by_label("New password", exact=True).fill("another-long-secret-43")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Current password is incorrect")).to_be_visible()
    page.get_by_label("Current password", exact=True).fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("another-long-secret-43")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Password changed.")).to_be_visible()
    expect(page.get_by_text("password changed", exact=True).first).to_be_visible()
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(page, base, address, "another-long-secret-43")

    # Delete the account: the password is asked for.
    page.get_by_role("link", name="Account").click()
    page.get_by_label("Password", exact=True).fill("another-long-secret-43")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Your account has been deleted.")).to_be_visible()
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    page.goto(base + "/#/signin")
    page.get_by_label("Email", exact=True).fill(address)
    page.get_by_label("Password", exact=True).fill("another-long-secret-43")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Invalid email or password")).to_be_visible()
    one.context.close()


def test_every_page_fits_a_320_px_screen_without_horizontal_scroll(browser: Browser, base: str):
    narrow = Offline(browser, base, viewport={"width": 320, "height": 640})
    page = narrow.page
    page.goto(base + "/")
    no_horizontal_scroll(page)
    page.goto(base + "/#/signup")
    no_horizontal_scroll(page)
    sign_up(page, base, "Narrow Person With A Rather Long Name", email())
    page.get_by_label("New task", exact=True).fill("A task title that is long enough to wrap on a narrow phone screen")
    page.get_by_role("button", name="Add task").click()
    expect(page.locator(".item")).to_have_count(1)
    no_horizontal_scroll(page)
    page.get_by_role("link", name="Account").click()
    expect(page.locator("[data-session-id]")).to_have_count(1)
    no_horizontal_scroll(page)
    narrow.context.close()


def test_the_keyboard_alone_signs_in_and_adds_a_task(browser: Browser, base: str):
    address = email()
    setup = Offline(browser, base)
    sign_up(setup.page, base, "Keys", address)
    setup.context.close()
    keys = Offline(browser, base)
    page = keys.page
    page.goto(base + "/#/signin")
    page.get_by_label("Email", exact=True).focus()
    page.keyboard.type(address)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()
    page.get_by_label("New task", exact=True).focus()
    page.keyboard.type("Typed without a mouse")
    page.keyboard.press("Enter")
    expect(page.locator(".item .title").first).to_have_text("Typed without a mouse")
    keys.context.close()


def test_a_refusal_shows_its_message_and_the_wait(browser: Browser):
    url, server = start_server({"AUTH_RATE_LIMIT_PER_MINUTE": "1"})
    try:
        tab = Offline(browser, url)
        page = tab.page
        page.goto(url + "/#/signin")
        page.get_by_label("Email", exact=True).fill("nobody@example.com")
        page.get_by_label("Password", exact=True).fill("wrong-password-1")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("Invalid email or password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("Too many attempts, please try again later (wait ")
        tab.context.close()
    finally:
        stop(server)


def test_the_api_page_renders_under_its_policy_with_no_violation(tab: Offline, base: str):
    page = tab.page
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text or "violates" in m.text else None)
    page.add_init_script("""
        document.addEventListener('securitypolicyviolation', (e) => {
            console.error('CSP violates ' + e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
        });
    """)
    page.goto(base + "/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Tessera")
    # Open one operation, so that the page's interactive parts render too.
    page.locator(".opblock-summary").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    page.wait_for_timeout(300)
    assert violations == [], violations


def test_an_account_list_that_fails_to_load_shows_why_and_is_no_longer_busy(tab: Offline, base: str):
    page = tab.page
    sign_up(page, base, "Unlucky Person", email())
    # The sessions answer the API's 503; the events a proxy's 500 page, which is not JSON.
    page.route("**/api/auth/sessions", lambda route: route.fulfill(
        status=503, headers={"Retry-After": "5"}, content_type="application/json",
        body=json.dumps({"error": "Service temporarily unavailable, please try again", "code": "unavailable"})))
    page.route("**/api/auth/events?*", lambda route: route.fulfill(
        status=500, content_type="text/html", body="<h1>Bad gateway</h1>"))
    page.get_by_role("link", name="Account").click()
    sessions = page.get_by_role("region", name="Active sessions")
    events = page.get_by_role("region", name="Recent security events")
    expect(sessions.get_by_role("alert")).to_have_text("Service temporarily unavailable, please try again (wait 5 s)")
    expect(events.get_by_role("alert")).to_have_text("Something went wrong, please try again")
    expect(sessions.locator("ul")).to_have_attribute("aria-busy", "false")
    expect(events.locator("ul")).to_have_attribute("aria-busy", "false")
    accessible(page, "account with failed lists")

    # Once the API answers again, the next load shows the list and no error.
    page.unroute("**/api/auth/sessions")
    page.unroute("**/api/auth/events?*")
    page.reload()
    expect(page.locator("[data-session-id]")).to_have_count(1)
    expect(sessions.get_by_role("alert")).to_be_hidden()
    expect(events.locator(".item").first).to_be_visible()
    expect(events.get_by_role("alert")).to_be_hidden()


def test_a_task_list_that_fails_to_load_shows_why_and_is_no_longer_busy(tab: Offline, base: str):
    page = tab.page
    sign_up(page, base, "Patient Person", email())
    page.route("**/api/*/tasks?*", lambda route: route.fulfill(
        status=503, headers={"Retry-After": "5"}, content_type="application/json",
        body=json.dumps({"error": "Service temporarily unavailable, please try again", "code": "unavailable"})))
    page.reload()
    expect(page.get_by_role("status")).to_have_text("Service temporarily unavailable, please try again (wait 5 s)")
    expect(page.locator("ul.list")).to_have_attribute("aria-busy", "false")


NEW_PASSWORD = "a-fresh-web-password-77"
FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_ON_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
# A session's or event's time, just now: "now", "12 seconds ago", "1 minute ago".
JUST_NOW = re.compile(r"^(now|\d+ seconds? ago|1 minute ago|\d+ minutes ago)$")
A_MADE_UP_TOKEN = "A" * 43


def test_a_forgotten_password_is_reset_from_the_mailed_link_which_signs_in_once(
        browser: Browser, mail: MailCatcher, mail_base: str):
    address = email()
    setup = Offline(browser, mail_base)
    sign_up(setup.page, mail_base, "Forgetful Person", address)
    setup.close()

    tab = Offline(browser, mail_base)
    page = tab.page
    page.goto(mail_base + "/#/signin")
    page.get_by_role("link", name="Forgot password?").click()
    expect(page.get_by_role("heading", name="Forgot password")).to_be_visible()
    page.get_by_role("button", name="Send reset link").click()
    expect(page.locator('[data-error-for="email"]')).to_have_text("Email is required")
    page.get_by_label("Email", exact=True).fill(address)
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("status")).to_have_text("If an account exists for this email, a reset link has been sent")
    accessible(page, "forgot password")

    link = link_in(mail.take(address, "Reset your password"), mail_base, "reset-password")
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert "token=" not in page.url, page.url
    accessible(page, "reset password")
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_role("button", name="Set new password").click()
    expect(page.locator('[data-error-for="new_password"]')).to_have_text("Password must be at least 8 characters")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()
    # A reset through the mailbox proves the address.
    expect(page.get_by_text("Your email is not verified")).to_be_hidden()

    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(page, mail_base, address, NEW_PASSWORD)

    # The link works once: again, it says so and offers a new one.
    page.goto(link)
    page.get_by_label("New password", exact=True).fill("yet-another-password-88")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("alert")).to_have_text("This link is invalid or has expired")
    page.get_by_role("link", name="Ask for a new link").click()
    expect(page.get_by_role("heading", name="Forgot password")).to_be_visible()
    tab.close()


def test_a_verification_link_opened_in_a_fresh_browser_verifies_and_the_notice_goes(
        browser: Browser, mail: MailCatcher, mail_base: str):
    address = email()
    signed_in = Offline(browser, mail_base)
    page = signed_in.page
    sign_up(page, mail_base, "Verifying Person", address)
    notice = page.get_by_role("region", name="Your email is not verified")
    expect(notice).to_be_visible()
    expect(notice.get_by_role("button", name="Resend")).to_be_visible()
    accessible(page, "tasks with the unverified notice")

    link = link_in(mail.take(address, "Verify your email"), mail_base, "verify-email")
    fresh = Offline(browser, mail_base)
    fresh.page.goto(link)
    expect(fresh.page.get_by_role("status")).to_have_text(f"Your email {address} is verified.")
    assert "token=" not in fresh.page.url, fresh.page.url
    expect(fresh.page.get_by_role("link", name="Sign in")).to_be_visible()
    accessible(fresh.page, "email verified")
    # A used link is refused, with the API's message.
    fresh.page.goto(link)
    expect(fresh.page.get_by_role("alert")).to_have_text("This link is invalid or has expired")
    fresh.close()

    page.reload()
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()
    expect(page.get_by_text("Your email is not verified")).to_be_hidden()
    page.get_by_role("link", name="Account").click()
    expect(page.locator(".current-email .badge")).to_have_text("Verified")
    signed_in.close()


def test_an_email_change_is_confirmed_from_the_new_address_and_signin_then_uses_it(
        browser: Browser, mail: MailCatcher, mail_base: str):
    old, new = email(), email()
    tab = Offline(browser, mail_base)
    page = tab.page
    sign_up(page, mail_base, "Moving Person", old)
    page.get_by_role("link", name="Account").click()
    section = page.get_by_role("region", name="Email", exact=True)
    expect(section.locator(".current-email")).to_contain_text(old)
    expect(section.locator(".badge")).to_have_text("Not verified")

    section.get_by_label("New email", exact=True).fill("not-an-email")
    section.get_by_label("Your password", exact=True).fill(PASSWORD)
    section.get_by_role("button", name="Change email").click()
    expect(section.locator('[data-error-for="new_email"]')).to_have_text("Please enter a valid email")
    section.get_by_label("New email", exact=True).fill(new)
    section.get_by_label("Your password", exact=True).fill("not-the-password")
    section.get_by_role("button", name="Change email").click()
    expect(section.get_by_role("alert")).to_have_text("Password is incorrect")
    section.get_by_label("Your password", exact=True).fill(PASSWORD)
    section.get_by_role("button", name="Change email").click()
    expect(section.get_by_role("status")).to_have_text("Check your new email to confirm the change")
    accessible(page, "account after asking for an email change")

    link = link_in(mail.take(new, "Confirm your new email"), mail_base, "verify-email")
    page.goto(link)
    expect(page.get_by_role("status")).to_have_text(f"Your email is now {new}.")
    mail.take(old, "Your email was changed")
    page.get_by_role("link", name="Account").click()
    expect(section.locator(".current-email")).to_contain_text(new)
    expect(section.locator(".badge")).to_have_text("Verified")

    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email", exact=True).fill(old)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Invalid email or password")
    sign_in(page, mail_base, new)
    tab.close()


def test_resend_says_how_long_to_wait_when_asked_again_too_soon(browser: Browser, mail_base: str):
    tab = Offline(browser, mail_base)
    page = tab.page
    sign_up(page, mail_base, "Impatient Person", email())
    notice = page.get_by_role("region", name="Your email is not verified")
    resend = notice.get_by_role("button", name="Resend")
    result = notice.get_by_role("status")
    # Signup has just sent a link: the first resend may already be too soon.
    resend.click()
    expect(result).to_have_text(re.compile(
        r"^(Verification email sent|Too many attempts, please try again later\. Try again in \d+ seconds?\.)$"))
    with page.expect_response(lambda r: r.url.endswith("/api/auth/email/verification")) as second:
        resend.click()
    assert second.value.status == 429, second.value.status
    wait = int(second.value.headers["retry-after"])
    unit = "second" if wait == 1 else "seconds"
    expect(result).to_have_text(f"Too many attempts, please try again later. Try again in {wait} {unit}.")
    expect(result).to_be_visible()
    accessible(page, "tasks with the resend wait")
    tab.close()


def test_sessions_and_events_name_browser_and_system_in_words_with_times_relative_to_now(
        browser: Browser, base: str):
    address = email()
    mine = Offline(browser, base)
    page = mine.page
    sign_up(page, base, "Many Devices", address)
    for agent in (FIREFOX_ON_WINDOWS, SAFARI_ON_IPHONE):
        other = Offline(browser, base, user_agent=agent)
        sign_in(other.page, base, address)
        other.close()
    page.get_by_role("link", name="Account").click()
    sessions = page.get_by_role("region", name="Active sessions")
    expect(sessions.locator("[data-session-id]")).to_have_count(3)
    expect(sessions.get_by_text("Firefox on Windows", exact=True)).to_be_visible()
    expect(sessions.get_by_text("Safari on iOS", exact=True)).to_be_visible()
    this_device = sessions.locator("[data-session-id]", has=page.locator(".badge", has_text="This device"))
    expect(this_device.locator(".title")).to_contain_text(" on Linux")
    expect(sessions).not_to_contain_text("Mozilla/5.0")
    signed_in_at = this_device.locator("time").first
    expect(signed_in_at).to_have_text(JUST_NOW)
    expect(signed_in_at).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"))
    expect(signed_in_at).to_have_attribute("title", re.compile(r"\d"))

    events = page.get_by_role("region", name="Recent security events")
    expect(events.get_by_text("Firefox on Windows").first).to_be_visible()
    expect(events).not_to_contain_text("Mozilla/5.0")
    expect(events.locator("time").first).to_have_text(JUST_NOW)
    accessible(page, "account with sessions in words")
    mine.close()


def test_the_pages_mail_links_open_fit_320_px_work_by_keyboard_and_show_a_bad_link(browser: Browser, base: str):
    narrow = Offline(browser, base, viewport={"width": 320, "height": 640})
    page = narrow.page
    page.goto(base + "/#/forgot-password")
    expect(page.get_by_role("heading", name="Forgot password")).to_be_visible()
    no_horizontal_scroll(page)
    page.get_by_label("Email", exact=True).focus()
    page.keyboard.type(email())
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("If an account exists for this email, a reset link has been sent")
    no_horizontal_scroll(page)

    page.goto(f"{base}/#/reset-password?token={A_MADE_UP_TOKEN}")
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert A_MADE_UP_TOKEN not in page.url, page.url
    page.get_by_label("New password", exact=True).focus()
    page.keyboard.type(NEW_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("This link is invalid or has expired")
    expect(page.get_by_role("link", name="Ask for a new link")).to_be_visible()
    no_horizontal_scroll(page)
    accessible(page, "reset password with a bad link")

    page.goto(f"{base}/#/verify-email?token={A_MADE_UP_TOKEN}")
    expect(page.get_by_role("alert")).to_have_text("This link is invalid or has expired")
    assert A_MADE_UP_TOKEN not in page.url, page.url
    no_horizontal_scroll(page)
    accessible(page, "verify email with a bad link")
    narrow.close()


def test_with_verification_required_signup_asks_for_the_link_and_signin_waits_for_it(
        browser: Browser, mail: MailCatcher):
    url, server = start_server({"EMAIL_VERIFICATION": "required"}, smtp_port=mail.port)
    try:
        tab = Offline(browser, url)
        page = tab.page
        address = email()
        page.goto(url + "/#/signup")
        page.get_by_label("Name", exact=True).fill("Careful Person")
        page.get_by_label("Email", exact=True).fill(address)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        expect(page.get_by_role("status")).to_have_text("Check your email to verify your address, then sign in.")

        page.get_by_label("Email", exact=True).fill(address)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("Please verify your email before signing in")

        link = link_in(mail.take(address, "Verify your email"), url, "verify-email")
        page.goto(link)
        expect(page.get_by_role("status")).to_have_text(f"Your email {address} is verified.")
        page.get_by_role("link", name="Sign in").click()
        sign_in(page, url, address)
        tab.close()
    finally:
        stop(server)
