"""docs/osc.md is generated: it must match render(), which must cover every route and param."""

from __future__ import annotations

from pathlib import Path

from bridge.live.params import ACTIONS, PARAMS
from bridge.live.status import KEYS as STATUS_KEYS
from bridge.osc.docs import ACTION_ROUTES, render
from bridge.osc.routes import IN, ROUTES, route

DOC = Path(__file__).resolve().parents[2] / "docs" / "osc.md"


def test_docs_osc_md_is_up_to_date():
    assert DOC.exists(), "docs/osc.md is missing: run `continuo osc-doc`"
    assert DOC.read_text(encoding="utf-8") == render(), \
        "docs/osc.md is stale: run `continuo osc-doc` and commit the result"


def test_render_is_deterministic_and_complete():
    text = render()
    assert text == render()
    assert text.endswith("\n") and not text.endswith("\n\n")
    for rt in ROUTES:
        assert f"| `{rt.address}` |" in text
    for p in PARAMS:
        assert f"| `{p.name}` |" in text
    for name, cc in ACTIONS.items():
        assert f"| `{name}` | {cc} |" in text
    for key in STATUS_KEYS:
        assert f"| `{key.key}` | {key.scope} |" in text
    assert "127.0.0.1:9000" in text and "`9001`" in text


def test_action_routes_name_real_in_routes():
    assert set(ACTION_ROUTES) == set(ACTIONS)
    for address in ACTION_ROUTES.values():
        route(address, IN)
