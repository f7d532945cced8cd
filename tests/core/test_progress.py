"""Progress reporting: plain periodic lines off a terminal or in CI, a rich bar on a terminal."""

from __future__ import annotations

import io

from etl.core.progress import PlainProgress, report_progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_every_interval_with_rate() -> None:
    now = [0.0]
    out = io.StringIO()
    reporter = PlainProgress("items", 5000, stream=out, interval=5.0, clock=lambda: now[0])
    for _ in range(1199):
        reporter.advance()
    now[0] = 5.0
    reporter.advance()
    now[0] = 6.0
    reporter.advance(10)
    now[0] = 10.0
    reporter.finish()
    assert out.getvalue().splitlines() == ["[items] 1200/5000 (240/s)", "[items] 1210/5000 (121/s)"]


def test_not_a_terminal_gives_plain_lines() -> None:
    out = io.StringIO()
    with report_progress("chunks", 3, stream=out, env={}) as reporter:
        reporter.advance(3)
    assert out.getvalue().startswith("[chunks] 3/3")


def test_ci_gives_plain_lines_even_on_a_terminal() -> None:
    out = Terminal()
    with report_progress("chunks", None, stream=out, env={"CI": "true"}) as reporter:
        reporter.advance(2)
    assert out.getvalue().startswith("[chunks] 2 ")


def test_terminal_gets_a_bar() -> None:
    out = Terminal()
    with report_progress("assets", 5, stream=out, env={}) as reporter:
        reporter.advance(5)
    text = out.getvalue()
    assert "assets" in text
    assert "5/5" in text
    assert "[assets]" not in text
