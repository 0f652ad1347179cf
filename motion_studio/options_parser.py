"""The one way what a caller gave becomes a run's `Options`: the page, the API, the MCP tools and the
command line all call `parse_options`.

`null` or a missing value means the option's default. A wrong type, an unknown choice, a number out of
range, a text too long, or an option the chosen model does not take is refused in one sentence naming
the parameter as that caller names it, before anything is read, uploaded or sent.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from .catalog import OPTIONS, PREVIEW_OPTION, Edge, Option, compare_option, either, model_option, takers, tier
from .errors import OptionError
from .order import Options


def parse_options(given: Mapping[str, Any], *, edge: Edge, default_model: str) -> tuple[Options, ...]:
    """`given`: the caller's values by option name (`model`, `preview`, `more_models` and the
    catalogue's options). The answer: the chosen model's options, then those of each model it is
    compared with (`more_models`), each holding the options its model takes.

    The page sends every control's value, those of options no chosen model takes included (hidden,
    kept for a switch back): they are left out. Any other caller that sets such an option is told
    which models take it."""
    model = str(_value(model_option(default_model), given.get("model"), edge))
    preview = bool(_value(PREVIEW_OPTION, given.get("preview"), edge))
    models = [tier(name) for name in (model, *_more_models(given.get("more_models"), model, edge))]
    values: dict[str, Any] = {}
    for option in OPTIONS.values():
        raw = given.get(option.name)
        if any(chosen.takes(option.name) for chosen in models):
            values[option.name] = _value(option, raw, edge)
        elif raw is not None and edge != "page":
            quoted = either([f"'{name}'" for name in takers(option.name)])
            raise OptionError.not_taken(called(option, edge), [m.name for m in models], quoted)
    return tuple(
        Options(model=m.name, preview=preview, values={k: v for k, v in values.items() if m.takes(k)})
        for m in models
    )


def _more_models(raw: Any, model: str, edge: Edge) -> tuple[str, ...]:
    """A comparison's other models: a list of model names, each once, not the chosen one."""
    option = compare_option(model)
    if raw is None:
        return ()
    names = list(raw) if isinstance(raw, list | tuple) else None
    if names is None or not all(isinstance(name, str) for name in names):
        raise OptionError.invalid(called(option, edge), option.accepts, _shown(raw))
    names = [name.strip() for name in names if name.strip()]
    unknown = next((name for name in names if name not in option.choice_values), None)
    if unknown is not None or len(names) > (option.maximum or 0):
        raise OptionError.invalid(called(option, edge), option.accepts, _shown(unknown or names))
    repeated = next((name for name in names if names.count(name) > 1 or name == model), None)
    if repeated is not None:
        raise OptionError.model_twice(called(option, edge), repeated)
    return tuple(names)


def called(option: Option, edge: Edge) -> str:
    """The parameter as this edge names it."""
    if edge == "api":
        return option.api_name
    if edge == "cli":
        return option.cli_flags[0]
    return option.label.removesuffix(" (optional)")


def _value(option: Option, raw: Any, edge: Edge) -> Any:
    # The page's box for a number that may be left empty (the seed) is a text box: empty means none.
    typed = edge in ("cli", "page")
    if raw is None or (typed and option.kind in (int, float) and isinstance(raw, str) and not raw.strip()):
        return option.default
    if option.kind is bool:
        if isinstance(raw, bool):
            return raw
    elif option.kind in (int, float):
        number = _number(raw, option.kind, from_text=typed)
        if number is not None and _in_bounds(option, number):
            return number
    elif isinstance(raw, str):
        if option.choices:
            if raw in option.choice_values:
                return raw
        elif option.max_chars is None or len(raw.strip()) <= option.max_chars:
            return raw.strip()
        else:
            got = f"{len(raw.strip())} characters"
            raise OptionError.invalid(called(option, edge), option.accepts, got)
    raise OptionError.invalid(called(option, edge), option.accepts, _shown(raw))


def _number(raw: Any, kind: type, *, from_text: bool) -> int | float | None:
    """A number of the option's kind; the command line's (or the page's) text read as one. A bool is not a number
    (JSON's true is not 1), and a float with a fraction is not a whole number."""
    if from_text and isinstance(raw, str):
        try:
            raw = float(raw) if kind is float else int(raw, 10)
        except ValueError:
            return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        return None
    if kind is int:
        return int(raw) if float(raw).is_integer() else None
    return float(raw)


def _in_bounds(option: Option, number: float) -> bool:
    low = option.minimum if option.minimum is not None else -math.inf
    high = option.maximum if option.maximum is not None else math.inf
    return low <= number <= high


def _shown(raw: Any) -> str:
    """What the caller gave, as they would write it: a string quoted, JSON for the rest, kept short."""
    if isinstance(raw, str):
        text = repr(raw)
    else:
        try:
            text = json.dumps(raw)
        except (TypeError, ValueError):
            text = type(raw).__name__
    return text if len(text) <= 60 else text[:57] + "…"
