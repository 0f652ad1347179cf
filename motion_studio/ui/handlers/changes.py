"""The two shapes every handler deals in: the values of its input components, and what changes."""

from __future__ import annotations

from typing import Any

# Gradio's dict-style events: a handler wired with a *set* of components gets `{component: value}`...
Values = dict[Any, Any]
# ...and every handler answers `{component: new value or update}`, leaving the others as they are.
Changes = dict[Any, Any]
