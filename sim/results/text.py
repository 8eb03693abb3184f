"""User text, shown as text: never obeyed by a terminal, never read as Markdown.

Names, descriptions and paths come from scenario files and command lines that anyone may have
written. The scenario schema refuses control characters in names and descriptions; whatever
reaches the screen or a Markdown file is made safe here anyway (a path, a message quoting a
refused value, a results folder from another version). Rich markup and HTML are escaped where
they are produced (sim.cli.common and sim.results.html).
"""

from __future__ import annotations

import functools
import re
import threading

__all__ = ["printable", "markdown_literal", "literal_text"]

#: C0 and C1 control characters, DEL, and the invisible bidirectional overrides.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e"
                                r"\u2066-\u2069]")
#: What Markdown reads as syntax and every Markdown escapes with a backslash; `&`, `<` and `>`
#: (HTML) are written as entities instead, which every Markdown shows as the character.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text, *, lines: bool = False) -> str:
    """`text` with every control character written out as an escape (`\\x1b`), so a terminal
    shows it instead of obeying it; line breaks are kept when `lines` is true."""
    return (_CONTROL_BUT_LINES if lines else _CONTROL).sub(_visible, str(text))


def markdown_literal(text, *, lines: bool = False) -> str:
    """`text` as Markdown that renders exactly as the text: no links, images, HTML or
    emphasis (Markdown's punctuation backslash-escaped, `&<>` as entities, control characters
    written out)."""
    escaped = _MARKDOWN.sub(r"\\\1", printable(text, lines=lines))
    return re.sub("[&<>]", lambda m: _ENTITIES[m.group()], escaped)


def literal_text(draw):
    """Decorate a function that draws a matplotlib figure so that its text is taken literally.
    Titles and labels hold user text (scenario and partner names), which matplotlib would
    otherwise read as mathematics between dollar signs: `Costs $5m and $3m` set in italics, and
    `a $\\x$` an error that would lose a finished run at its last step."""
    @functools.wraps(draw)
    def drawn(*args, **kwargs):
        from matplotlib import rcParams

        with _DRAWING:   # only this setting is changed and restored (rc_context would also
            before = rcParams["text.parse_math"]   # undo what a backend set up meanwhile,
            rcParams["text.parse_math"] = False    # such as a notebook's inline figures)
            try:
                return draw(*args, **kwargs)
            finally:
                rcParams["text.parse_math"] = before

    return drawn


#: One figure drawn at a time (an app server draws in threads; rcParams are shared).
_DRAWING = threading.RLock()
