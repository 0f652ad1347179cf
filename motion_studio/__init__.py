"""Motion Control Studio: a playground for Kling v2.6 Motion Control on fal.ai."""

__version__ = "0.1.0"
