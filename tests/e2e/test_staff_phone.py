"""The staff day view, a child's page and a guardian's link, in Chromium on a phone-sized screen: nothing
scrolls sideways, a tap marks a child in place (htmx), the guardian link opens without its token in the
address bar, and no page breaks the Content Security Policy."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import KioskServer

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 760}
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


def demo_password(server: KioskServer) -> str:
    match = re.search(r"password: (\S+)", server.output())
    assert match, server.output()
    return match.group(1)


def phone(browser: Any) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport=PHONE, has_touch=True, locale="sv-SE")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    return context, page, problems


def test_the_day_view_and_a_guardians_link_on_a_phone(browser: Any, kiosk_server: KioskServer) -> None:
    base = kiosk_server.base_url
    context, page, problems = phone(browser)
    try:
        page.goto(f"{base}/admin/login")
        page.fill("input[name=email]", "demo@solrosen.example")
        page.fill("input[name=password]", demo_password(kiosk_server))
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/admin")

        page.goto(f"{base}/admin/p/solrosen/day?group=all")
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
        noah = page.locator("tbody", has_text="Noah").first
        noah.get_by_role("button", name="Har kommit").click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('tbody')].some("
            "(row) => row.textContent.includes('Noah') && row.textContent.includes('Har gått hem'))"
        )
        assert page.url.endswith("/day?group=all")  # updated in place, no page load

        page.goto(f"{base}/admin/p/solrosen/children")
        page.locator("tr", has_text="Ella").get_by_role("link").first.click()
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
        page.fill("form[action$='/links'] input[name=label]", "Mamma")
        page.click("form[action$='/links'] button[type=submit]")
        link = re.search(r"http://[^\s\"<]+/guardian/open\?t=[\w-]+", page.content())
        assert link, "the new guardian link is shown once"
    finally:
        context.close()

    guardian, page, guardian_problems = phone(browser)
    try:
        page.goto(link.group(0))
        page.wait_for_url(f"{base}/guardian")  # the token left the address bar
        assert "Hämtning av Ella" in page.content()
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
        forms = page.locator("form[method=post]")
        if forms.count():  # a day the preschool is open and the child comes (not on a Friday night)
            form = forms.last
            form.locator("input[name=pickup_by]").fill("morfar")
            form.locator("button[type=submit]").click()
            page.wait_for_selector("text=Sparat.")
            assert "av morfar" in page.locator("main").inner_text()
    finally:
        guardian.close()
    assert problems == [] and guardian_problems == []
