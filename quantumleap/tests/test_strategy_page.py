"""The strategy page and the dashboard's markup: login, ownership, and pages a Content-Security-Policy can allow."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from conftest import ROOT


def test_a_strategy_page_needs_a_login(demo):
    response = Client().get(f"/strategies/{demo.strategy.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next=/strategies/{demo.strategy.pk}/"


def test_a_strategy_page_is_its_owners_only(demo):
    other = get_user_model().objects.create_user("someone-else", password="Someone-else-pw-1")
    client = Client()
    client.force_login(other)
    # The same answer as for a strategy that does not exist: an id reveals nothing.
    assert client.get(f"/strategies/{demo.strategy.pk}/").status_code == 404
    assert client.get("/strategies/999999/").status_code == 404


def test_the_owner_sees_the_page_with_its_sections(demo):
    client = Client()
    client.force_login(demo.trader)
    response = client.get(f"/strategies/{demo.strategy.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-strategy-id="{demo.strategy.pk}"' in page
    for section in ("equity-chart", "drawdown-chart", "metrics", "trades-table", "signals-table", "versions-table"):
        assert f'id="{section}"' in page
    assert f'href="/api/v1/strategies/{demo.strategy.pk}/trades/?format=csv"' in page
    assert "csrftoken" in response.cookies  # the lifecycle dialogs send it


@pytest.mark.parametrize("path", ["/", "strategy"])
def test_pages_have_no_inline_script_handler_or_outside_resource(demo, path):
    client = Client()
    client.force_login(demo.trader)
    page = client.get(f"/strategies/{demo.strategy.pk}/" if path == "strategy" else path).content.decode()
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts, "the page loads its scripts"
    assert all(re.search(r'\bsrc="/static/', tag) for tag in scripts), scripts
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", page), "inline script"
    assert not re.search(r"\son[a-z]+\s*=", page), "inline event handler"
    # Links to other sites may be followed; nothing is loaded from one (scripts, styles, images, icons).
    assert not re.search(r'\bsrc="(?:https?:)?//', page), "a resource from another site"
    assert not re.search(r'<link\b[^>]*\bhref="(?:https?:)?//', page), "a resource from another site"
    assert not re.search(r"\bstyle=", page), "an inline style attribute"


def test_the_chart_library_is_served_from_static_vendor_never_a_cdn(demo):
    client = Client()
    client.force_login(demo.trader)
    page = client.get(f"/strategies/{demo.strategy.pk}/").content.decode()
    assert 'src="/static/vendor/lightweight-charts.standalone.production.js"' in page
    # package.json pins the version the lock file holds; make static copies it from node_modules.
    assert '"lightweight-charts": "5.2.1"' in (ROOT / "package.json").read_text()
