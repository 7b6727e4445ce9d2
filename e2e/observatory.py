"""Grades HTTP responses by the MDN HTTP Observatory's rules.

The scoring follows mdn/mdn-http-observatory (src/grader/charts.js and src/analyzer): start
at 100, apply each test's modifier; bonuses count only when the score without them is at
least 90. This is a faithful subset for one site we control, not the scanner itself: it
reads the headers, cookies and HTML we hand it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

MINIMUM_SCORE_FOR_EXTRA_CREDIT = 90
SIX_MONTHS = 15_768_000


@dataclass
class Result:
    test: str
    expectation: str
    modifier: int


@dataclass
class Grade:
    results: list[Result] = field(default_factory=list)

    @property
    def score(self) -> int:
        penalties = sum(r.modifier for r in self.results if r.modifier < 0)
        bonuses = sum(r.modifier for r in self.results if r.modifier > 0)
        base = 100 + penalties
        return base + bonuses if base >= MINIMUM_SCORE_FOR_EXTRA_CREDIT else max(base, 0)

    def report(self) -> str:
        lines = [f"Observatory score: {self.score}"]
        lines += [f"  [{r.modifier:+3d}] {r.test}: {r.expectation}" for r in self.results]
        return "\n".join(lines)


def parse_csp(header: str) -> dict[str, list[str]]:
    policy: dict[str, list[str]] = {}
    for directive in header.split(";"):
        parts = directive.split()
        if parts:
            policy.setdefault(parts[0].lower(), [p.lower() for p in parts[1:]])
    return policy


def grade_csp(headers: dict[str, str]) -> Result:
    header = headers.get("content-security-policy")
    if not header:
        return Result("content-security-policy", "csp-not-implemented", -25)
    policy = parse_csp(header)
    script = policy.get("script-src", policy.get("default-src", []))
    if (
        not script
        or "'unsafe-inline'" in script
        and not any(s.startswith(("'nonce-", "'sha")) for s in script)
    ):
        return Result("content-security-policy", "csp-implemented-with-unsafe-inline", -20)
    if any(s in ("data:", "https:", "http:", "*") for s in script):
        return Result("content-security-policy", "csp-implemented-with-unsafe-inline", -20)
    if "'unsafe-eval'" in script:
        return Result("content-security-policy", "csp-implemented-with-unsafe-eval", -10)
    if any(s.startswith("http:") for values in policy.values() for s in values):
        return Result("content-security-policy", "csp-implemented-with-insecure-scheme", -20)
    style = policy.get("style-src", policy.get("default-src", []))
    if "'unsafe-inline'" in style or "data:" in style:
        return Result(
            "content-security-policy", "csp-implemented-with-unsafe-inline-in-style-src-only", 0
        )
    if (
        policy.get("default-src") == ["'none'"]
        and set(policy.get("form-action", []))
        <= {
            "'none'",
            "'self'",
        }
        and "form-action" in policy
    ):
        return Result(
            "content-security-policy", "csp-implemented-with-no-unsafe-default-src-none", 10
        )
    return Result("content-security-policy", "csp-implemented-with-no-unsafe", 5)


def grade_cookies(set_cookie_headers: list[str], hsts: bool) -> Result:
    if not set_cookie_headers:
        return Result("cookies", "cookies-not-found", 0)
    secure = httponly_sessions = samesite = True
    for raw in set_cookie_headers:
        attributes = {a.strip().split("=")[0].lower(): a for a in raw.split(";")[1:]}
        name = raw.split("=", 1)[0].strip().lower()
        if "secure" not in attributes:
            secure = False
        if "session" in name and "httponly" not in attributes:
            httponly_sessions = False
        value = attributes.get("samesite", "").split("=")[-1].strip().lower()
        if value not in ("strict", "lax"):
            samesite = False
    if not httponly_sessions:
        return Result("cookies", "cookies-session-without-httponly-flag", -30)
    if not secure:
        return Result(
            "cookies",
            "cookies-without-secure-flag-but-protected-by-hsts"
            if hsts
            else "cookies-without-secure-flag",
            -5 if hsts else -20,
        )
    if samesite:
        return Result("cookies", "cookies-secure-with-httponly-sessions-and-samesite", 5)
    return Result("cookies", "cookies-secure-with-httponly-sessions", 0)


def grade_cors(headers: dict[str, str]) -> Result:
    origin = headers.get("access-control-allow-origin")
    if origin is None:
        return Result(
            "cross-origin-resource-sharing", "cross-origin-resource-sharing-not-implemented", 0
        )
    if origin == "*":
        return Result(
            "cross-origin-resource-sharing",
            "cross-origin-resource-sharing-implemented-with-public-access",
            0,
        )
    return Result(
        "cross-origin-resource-sharing",
        "cross-origin-resource-sharing-implemented-with-restricted-access",
        0,
    )


def grade_redirection(http_url: str, first_location: str | None) -> Result:
    if not first_location:
        return Result("redirection", "redirection-missing", -20)
    source, target = urlsplit(http_url), urlsplit(first_location)
    if target.scheme != "https":
        return Result("redirection", "redirection-not-to-https-on-initial-redirection", -10)
    if target.hostname != source.hostname:
        return Result("redirection", "redirection-off-host-from-http", -5)
    return Result("redirection", "redirection-to-https", 0)


def grade_referrer(headers: dict[str, str]) -> Result:
    value = headers.get("referrer-policy")
    if value is None:
        return Result("referrer-policy", "referrer-policy-not-implemented", 0)
    last = value.split(",")[-1].strip().lower()
    if last in ("no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"):
        return Result("referrer-policy", "referrer-policy-private", 5)
    return Result("referrer-policy", "referrer-policy-unsafe", -5)


def grade_hsts(headers: dict[str, str], preloaded: bool = False) -> Result:
    value = headers.get("strict-transport-security")
    if not value:
        return Result("strict-transport-security", "hsts-not-implemented", -20)
    match = re.search(r"max-age=(\d+)", value, re.IGNORECASE)
    if not match:
        return Result("strict-transport-security", "hsts-header-invalid", -20)
    if int(match.group(1)) < SIX_MONTHS:
        return Result(
            "strict-transport-security", "hsts-implemented-max-age-less-than-six-months", -10
        )
    if preloaded:  # only for domains on the browsers' list: a local server cannot be
        return Result("strict-transport-security", "hsts-preloaded", 5)
    return Result("strict-transport-security", "hsts-implemented-max-age-at-least-six-months", 0)


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "script":
            self.scripts.append(dict(attrs))


def grade_sri(html: str, page_url: str, content_type: str) -> Result:
    if "html" not in content_type:
        return Result("subresource-integrity", "sri-not-implemented-response-not-html", 0)
    parser = _Scripts()
    parser.feed(html)
    scripts = [s for s in parser.scripts if s.get("src")]
    if not scripts:
        return Result("subresource-integrity", "sri-not-implemented-but-no-scripts-loaded", 0)
    host = urlsplit(page_url).hostname
    external = [s for s in scripts if urlsplit(s["src"]).hostname not in (None, host)]
    with_sri = all(s.get("integrity") for s in scripts)
    if with_sri and not external:
        return Result("subresource-integrity", "sri-implemented-and-all-scripts-loaded-securely", 5)
    if with_sri:
        return Result(
            "subresource-integrity", "sri-implemented-and-external-scripts-loaded-securely", 5
        )
    if not external:
        return Result(
            "subresource-integrity",
            "sri-not-implemented-but-all-scripts-loaded-from-secure-origin",
            0,
        )
    return Result(
        "subresource-integrity", "sri-not-implemented-but-external-scripts-loaded-securely", -5
    )


def grade_xcto(headers: dict[str, str]) -> Result:
    if headers.get("x-content-type-options", "").lower() == "nosniff":
        return Result("x-content-type-options", "x-content-type-options-nosniff", 0)
    return Result("x-content-type-options", "x-content-type-options-not-implemented", -5)


def grade_xfo(headers: dict[str, str]) -> Result:
    csp = parse_csp(headers.get("content-security-policy", ""))
    if "frame-ancestors" in csp:
        return Result("x-frame-options", "x-frame-options-implemented-via-csp", 5)
    if headers.get("x-frame-options", "").upper() in ("DENY", "SAMEORIGIN"):
        return Result("x-frame-options", "x-frame-options-sameorigin-or-deny", 0)
    return Result("x-frame-options", "x-frame-options-not-implemented", -20)


def grade_corp(headers: dict[str, str]) -> Result:
    value = headers.get("cross-origin-resource-policy", "").lower()
    if value == "same-origin":
        return Result("cross-origin-resource-policy", "corp-implemented-with-same-origin", 10)
    if value == "same-site":
        return Result("cross-origin-resource-policy", "corp-implemented-with-same-site", 10)
    if value == "cross-origin":
        return Result("cross-origin-resource-policy", "corp-implemented-with-cross-origin", 0)
    return Result("cross-origin-resource-policy", "corp-not-implemented", 0)


def _grade_policy_token(
    headers: dict[str, str], header: str, short: str, known: set[str]
) -> Result:
    """COOP and COEP: graded pass/fail, with no score modifier in the current algorithm."""
    value = headers.get(header, "").split(";")[0].strip().lower()
    if not value:
        return Result(header, f"{short}-not-implemented", 0)
    if value not in known:
        return Result(header, f"{short}-header-invalid", 0)
    return Result(header, f"{short}-implemented-with-{value}", 0)


def grade_coop(headers: dict[str, str]) -> Result:
    return _grade_policy_token(
        headers,
        "cross-origin-opener-policy",
        "coop",
        {"same-origin", "same-origin-allow-popups", "unsafe-none"},
    )


def grade_coep(headers: dict[str, str]) -> Result:
    return _grade_policy_token(
        headers,
        "cross-origin-embedder-policy",
        "coep",
        {"require-corp", "credentialless", "unsafe-none"},
    )


def grade(
    *,
    headers: dict[str, str],
    set_cookies: list[str],
    html: str,
    page_url: str,
    http_url: str,
    http_redirect: str | None,
) -> Grade:
    headers = {k.lower(): v for k, v in headers.items()}
    hsts = "strict-transport-security" in headers
    return Grade(
        [
            grade_csp(headers),
            grade_cookies(set_cookies, hsts),
            grade_cors(headers),
            grade_redirection(http_url, http_redirect),
            grade_referrer(headers),
            grade_hsts(headers),
            grade_sri(html, page_url, headers.get("content-type", "")),
            grade_xcto(headers),
            grade_xfo(headers),
            grade_corp(headers),
            grade_coop(headers),
            grade_coep(headers),
        ]
    )
