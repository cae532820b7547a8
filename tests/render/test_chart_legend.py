"""A legend with room for every line names every line: long names are elided in the middle
(the QA pass saw a queue's two rate lines as one name and "+1 more (hover a line)", and a
comparison's run A left unnamed)."""

from __future__ import annotations

import re

from scalesim.render.charts import Series, line_chart

SUBSCRIPTION = "orders->fulfilment.process"


def _legend(names: list[str]) -> str:
    series = [Series(name, [0.0, 1.0], [1.0, float(i)], "#333333")
              for i, name in enumerate(names)]
    return str(line_chart("rates", "rps", series, (0.0, 1.0)))


def test_two_long_names_are_both_shown_elided_with_the_full_name_on_hover() -> None:
    names = [f"{SUBSCRIPTION} published", f"{SUBSCRIPTION} delivered"]
    chart = _legend(names)
    assert "more (hover a line)" not in chart
    shown = re.findall(r'class="legend">([^<]+)<title>([^<]+)</title>', chart)
    assert [full.replace("&gt;", ">") for _, full in shown] == names
    assert all("…" in label for label, _ in shown)
    assert shown[0][0].endswith("published") and shown[1][0].endswith("delivered")


def test_names_that_fit_are_not_elided() -> None:
    chart = _legend(["A", "B"])
    assert re.findall(r'class="legend">([^<]+)<', chart) == ["A", "B"]
    assert "…" not in chart and "legend\">A<title>" not in chart
