"""The what-if page's product controls and views: a product's launch, peak share and
probability of success moved on the page, in the system's headless Chromium; a changed
run computes the products only for a view that draws them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from netsim.present.whatif.session import WhatIf

from .test_serve_page import _median_2031, _open, _set, browser  # noqa: F401 - fixture
from .whatif_serving import shared_server

served = shared_server()

ITM11 = "products.itm11"
APPROVAL = f"{ITM11}.phases.approval.probability.value"
PEAK_MODE = f"{ITM11}.uptake.peak.mode"
LAUNCH_MODE = f"{ITM11}.launch.mode"


@pytest.mark.slow
def test_a_products_controls_move_its_fan_and_a_broken_one_is_refused(browser, served):  # noqa: F811
    page, problems = _open(browser, served)
    try:
        for key in (APPROVAL, PEAK_MODE, LAUNCH_MODE):
            assert page.locator(f'.control[data-key="{key}"]').count() == 1, key
        view = page.locator("#view option", has_text="ITM-11").get_attribute("value")
        revision = int(page.get_attribute("body", "data-revision"))
        page.select_option("#view", view)
        page.wait_for_selector(f"body[data-revision='{revision + 1}'][data-busy='0']")
        assert "ITM-11" in page.inner_text("#bands-picked caption")
        before = _median_2031(page, "bands-picked")
        assert before > 0
        _set(page, PEAK_MODE, 55.0)  # a larger peak share: more sales in 2031
        assert _median_2031(page, "bands-picked") > before
        _set(page, APPROVAL, 0.2)  # fails in most draws: the median sells nothing
        assert _median_2031(page, "bands-picked") == 0.0
        # common random numbers: the draws approved at 0.2 are approved at 0.88 too (about
        # a fifth), and with the larger peak they sell more; the others sell nothing
        greater = float(page.get_attribute("#diff-picked", "data-prob-greater"))
        assert 0.15 < greater < 0.25
        _set(page, LAUNCH_MODE, 2030.0)  # past the launch's high: refused beside it
        message = page.locator(f'[data-error-for="{LAUNCH_MODE}"]')
        assert message.is_visible() and "must be <= high" in message.inner_text()
        assert problems == [
            "Failed to load resource: the server responded with a status of 400 (Bad Request)"
        ]
    finally:
        page.close()


NET = Path(__file__).resolve().parents[1] / "configs" / "net_market.toml"
PRRT = "drivers.targeted_prrt_expansion.impact.mode"


def test_a_changed_run_computes_the_products_only_for_a_product_view():
    page = WhatIf(NET, draws=300, seed=1)
    page._arrays["by_product"].fill(-1.0)  # the changed runs' buffer
    region = page.evaluate({PRRT: 1.8}, "region:North America")
    assert (page._arrays["by_product"] == -1.0).all()  # a region's view draws no product
    product = page.evaluate({PRRT: 1.8}, "product:6")
    assert (page._arrays["by_product"] >= 0.0).all()
    fresh = WhatIf(NET, draws=300, seed=1)
    assert fresh.evaluate({PRRT: 1.8}, "product:6")["picked"] == product["picked"]
    assert fresh.evaluate({PRRT: 1.8}, "region:North America")["global"] == region["global"]
    assert np.isclose(product["global"]["fan"], region["global"]["fan"]).all()
