"""The arguments a job reads: each with its default, a description and the values it accepts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_KINDS = ("text", "boolean", "integer", "number", "date", "choice")
TRUE_WORDS = ("true", "1", "yes", "y", "on")
FALSE_WORDS = ("false", "0", "no", "n", "off")
_INTEGER = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True)
class Option:
    """One job argument (`--arg KEY=VALUE` for `lake job run`, `--KEY VALUE` for a Glue job).

    `kind` says what a value must look like: text (anything), boolean (true/false and their usual
    spellings), integer or number (with an optional `minimum`), date (YYYY-MM-DD, or one of `words`),
    choice (one of `words`). `default` None means unset (or the conf's setting, where the job says so).
    """

    default: str | None = None
    help: str = ""
    kind: str = "text"
    words: tuple[str, ...] = ()
    minimum: float | None = None

    def __post_init__(self):
        if self.kind not in _KINDS:
            raise ValueError(f"option kind {self.kind!r} is not one of {', '.join(_KINDS)}")

    @property
    def accepts(self) -> str:
        """The values it accepts, for help and error messages."""
        floor = f" >= {self.minimum:g}" if self.minimum is not None else ""
        return {
            "text": "text",
            "boolean": "true|false",
            "integer": f"an integer{floor}",
            "number": f"a number{floor}",
            "date": "|".join(("YYYY-MM-DD", *self.words)),
            "choice": "|".join(self.words),
        }[self.kind]

    def problem(self, value: str) -> str | None:
        """Why `value` is not acceptable, or None when it is."""
        text = value.strip()
        ok = True
        if self.kind == "boolean":
            ok = text.lower() in TRUE_WORDS + FALSE_WORDS
        elif self.kind in ("integer", "number"):
            try:
                number = int(text) if self.kind == "integer" and _INTEGER.match(text) else float(text)
                ok = (self.kind == "number" or _INTEGER.match(text) is not None) and number == number
                ok = ok and (self.minimum is None or number >= self.minimum)
            except ValueError:
                ok = False
        elif self.kind == "date":
            ok = text in self.words or _is_date(text)
        elif self.kind == "choice":
            ok = text in self.words
        return None if ok else f"expected {self.accepts}, got {value!r}"


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def as_option(spec: Option | str | None) -> Option:
    """An Option from a plain default (text, no check) or an Option."""
    return spec if isinstance(spec, Option) else Option(default=spec)


def flag(value) -> bool:
    return str(value).strip().lower() in TRUE_WORDS
