"""Profile one call and print where its time went: pyinstrument when installed, else cProfile."""

from __future__ import annotations

import cProfile
import io
import pstats
from collections.abc import Callable

from rich.console import Console
from rich.text import Text

TOP_FUNCTIONS = 15


def profile(console: Console, title: str, work: Callable[[], object]) -> None:
    console.rule(f"profile: {title}")
    try:
        from pyinstrument import Profiler
    except ImportError:
        _cprofile(console, work)
        return
    profiler = Profiler(interval=0.0005)
    profiler.start()
    try:
        work()
    finally:
        profiler.stop()
    color = console.is_terminal
    console.print(Text.from_ansi(profiler.output_text(unicode=True, color=color)))
    console.print(Text.from_ansi(profiler.output_text(unicode=True, color=color, flat=True)))


def _cprofile(console: Console, work: Callable[[], object]) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(work)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(TOP_FUNCTIONS)
    console.print(out.getvalue(), markup=False, highlight=False)
