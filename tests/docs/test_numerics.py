"""docs/numerics.md says what the kit does: the matrix's settings and the bound's constants."""

from __future__ import annotations

import re

from mm4m.testing import numerics
from mm4m.testing.kernel_matrix import kernel_settings

from .markdown import section


def test_the_page_lists_every_kernel_setting_of_the_matrix():
    text = section("numerics.md", "Seeing other CPUs on yours")
    assert "1 and 2\nthreads" in text or "1 and 2 threads" in text
    for setting in kernel_settings(avx512=True):
        for name, value in setting.env.items():
            if name not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                assert f"`{name}`" in text and f"`{value}`" in text, setting.label


def test_the_stated_bound_is_the_helpers():
    text = section("numerics.md", "The rule")
    assert "u = 2⁻²⁴" in text and numerics.UNIT_ROUNDOFF == 2.0**-24
    sigmas = re.search(r"the bound is (\w+) of those", text).group(1)
    assert {"six": 6.0}[sigmas] == numerics.SIGMAS
