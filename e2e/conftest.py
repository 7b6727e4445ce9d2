"""Browser tests: Chromium against pytest-django's live server, with a CSP guard."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

from apps.accounts.tests.factories import DEFAULT_PASSWORD

# Playwright's sync API runs an asyncio loop in the test thread; without this, creating and
# flushing the test database raise SynchronousOnlyOperation.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Prefer the system's Chromium (Playwright cannot download its own on these machines);
# elsewhere fall back to the browser `playwright install chromium` fetched.
SYSTEM_CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

expect.set_options(timeout=5_000)

# Injected by the driver, so the page's CSP cannot block it. Reports each violation to
# Python through a binding and keeps a copy on the page for assertions.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const report = {
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    sample: event.sample,
    source: event.sourceFile + ":" + event.lineNumber,
  };
  window.__cspViolations.push(report);
  if (window.__reportCspViolation) window.__reportCspViolation(JSON.stringify(report));
});
"""


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not SYSTEM_CHROMIUM:
        return browser_type_launch_args
    return {
        **browser_type_launch_args,
        "executable_path": SYSTEM_CHROMIUM,
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


@dataclass
class BrowserProblems:
    """CSP violations, console errors and uncaught exceptions seen during one test."""

    csp_violations: list[dict] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    # Documents a test opens on purpose although they answer with an error (a 404 page).
    expected_error_urls: set[str] = field(default_factory=set)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        if (
            message.text.startswith("Failed to load resource")
            and message.location.get("url") in self.expected_error_urls
        ):
            return
        self.console_errors.append(f"{message.text} ({message.location.get('url')})")

    def clear(self) -> None:
        self.csp_violations.clear()
        self.console_errors.clear()
        self.page_errors.clear()

    def all(self) -> list[str]:
        return [
            *(f"CSP violation: {json.dumps(v)}" for v in self.csp_violations),
            *(f"console error: {text}" for text in self.console_errors),
            *(f"page error: {text}" for text in self.page_errors),
        ]


def watch(context: BrowserContext, problems: BrowserProblems) -> BrowserContext:
    """Report the context's CSP violations, console errors and page errors to ``problems``."""
    context.expose_function(
        "__reportCspViolation", lambda report: problems.csp_violations.append(json.loads(report))
    )
    context.add_init_script(CSP_LISTENER)
    context.on("console", problems.on_console)
    context.on("weberror", lambda error: problems.page_errors.append(str(error.error)))
    return context


@pytest.fixture(autouse=True)
def browser_problems(context: BrowserContext):
    """Fails any test whose pages violate the CSP or log a console error; a test that opens
    another context passes it through ``watch(context, browser_problems)``."""
    problems = BrowserProblems()
    watch(context, problems)
    yield problems
    found = problems.all()
    assert not found, "The browser reported problems:\n" + "\n".join(found)


@pytest.fixture
def e2e_users(transactional_db):
    """The personas the browser tests log in as (password: DEFAULT_PASSWORD)."""
    from apps.accounts.tests.factories import SuperuserFactory, UserFactory

    return {
        "member": UserFactory(
            username="member", email="max@example.org", first_name="Max", last_name="Member"
        ),
        "admin": SuperuserFactory(
            username="admin", email="ada@example.org", first_name="Ada", last_name="Admin"
        ),
    }


def log_in(page: Page, base_url: str, login: str, password: str = DEFAULT_PASSWORD) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username or email").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
