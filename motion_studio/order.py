"""An order: what a page, an API caller or the command line asks for, carried as one value from the
click to fal's request body and the history.

- `Options`: the choices a run sends fal (one frozen, validated value). It is the one place a new fal
  field is added: the API's and the command line's parameters, fal's request body and the history's
  stored options are all made from its fields.
- `Source`: one input as given (a file, or an http(s) URL).
- `Order`: the options with one or more (image, clip) pairs and the face they share. A single run is an
  order of one; a batch (one clip with several characters, or one character with several clips) an
  order of several.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator

from .catalog import (
    FACE_REFERENCE,
    OPTIONS,
    PREVIEW_SECONDS,
    TIERS,
    Face,
    ModelTier,
    check_face,
    tier,
)
from .errors import BatchError, OptionError

MAX_INPUTS = 8  # character images (or clips) in one batch, the first one included
DEFAULT_MODEL = "pro"


class Options(BaseModel):
    """The choices of a run: its model, whether it is a preview, and the model's own options (`values`,
    by their catalogue names). Callers' values are checked by `options_parser.parse_options`; this
    value is what a run carries, and it is stored as one flat JSON object (`model`, `preview` and each
    option), so a stored run reads without a migration."""

    model_config = ConfigDict(frozen=True)

    model: str = DEFAULT_MODEL
    preview: bool = False
    values: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _gathered(cls, data: Any) -> Any:
        """The flat form (stored, or written in code) made `values`: each option the model takes, its
        default where none is given; a stored option the model no longer takes is skipped."""
        if not isinstance(data, dict) or "values" in data:
            return data
        model = data.get("model") or DEFAULT_MODEL
        known = TIERS.get(model)
        given = {k: v for k, v in data.items() if k not in ("model", "preview") and v is not None}
        if known is not None:
            given = {name: given.get(name, OPTIONS[name].default) for name in known.options}
        return {"model": model, "preview": bool(data.get("preview")), "values": given}

    @model_serializer
    def _flat(self) -> dict[str, Any]:
        return {"model": self.model, "preview": self.preview, **self.values}

    def get(self, name: str) -> Any:
        """An option's value; None when the model does not take it."""
        return self.values.get(name)

    def with_value(self, name: str, value: Any) -> Options:
        return self.model_copy(update={"values": {**self.values, name: value}})

    @property
    def runs_on(self) -> ModelTier:
        """The model fal runs: the chosen one, or for a preview its family's cheapest model."""
        chosen = tier(self.model)
        return tier(chosen.preview) if self.preview else chosen

    @property
    def sent_values(self) -> dict[str, Any]:
        """The option values fal gets: a preview's are lowered to its family's cheapest setting (Wan:
        its lowest resolution)."""
        if not self.preview:
            return dict(self.values)
        lowered = dict(tier(self.model).preview_values)
        return {name: lowered.get(name, value) for name, value in self.values.items()}

    @property
    def price_per_second(self) -> float:
        """The price of a second of output, as sent (the model run, and a choice that sets it)."""
        return self.runs_on.price(self.sent_values)

    @property
    def ran_as(self) -> str:
        """The model fal runs, with a choice that sets its price ("Kling Standard" for a preview of
        Pro, "Wan Move 580p"): a comparison names each of its runs so. A model this release no
        longer offers is named as stored."""
        try:
            model = self.runs_on
        except ValueError:
            return self.model
        priced = [
            str(value)
            for name, value in self.sent_values.items()
            if name in OPTIONS and any(c.price_per_second for c in OPTIONS[name].choices)
        ]
        return " ".join([model.full_title, *priced])

    @property
    def clip_max_seconds(self) -> float:
        """The longest clip the model takes with these options (Kling: its orientation's limit)."""
        caps = [self.runs_on.limits.max_seconds]
        for name, value in self.values.items():
            choice = OPTIONS[name].choice(value) if name in OPTIONS else None
            if choice is not None and choice.clip_max_seconds is not None:
                caps.append(choice.clip_max_seconds)
        return min(caps)

    def sent_seconds(self, clip_seconds: float) -> float:
        """How much of the clip fal gets: all of it, or a preview's first seconds."""
        return min(clip_seconds, PREVIEW_SECONDS) if self.preview else clip_seconds

    def estimate_cost(self, clip_seconds: float) -> float:
        """What a run on a clip this long costs, as sent (a preview: its seconds, its model)."""
        return self.runs_on.estimate_cost(self.sent_seconds(clip_seconds), self.sent_values)

    def fal_arguments(self, image_url: str, video_url: str, face: Face | None = None) -> dict[str, Any]:
        """fal's request body, exactly as the model's input schema gives it: each option the model takes
        by fal's name (an empty text left out), and `elements` (the face's uploaded URLs) only for a
        face, which the prompt then names. An option the studio does itself (`ModelTier.local`) is not
        sent, nor one left empty (no seed: the model picks one)."""
        arguments: dict[str, Any] = {"image_url": image_url, "video_url": video_url}
        values = self.sent_values
        if face:
            arguments["elements"] = [face.element()]
            values["prompt"] = prompt_with_face(values.get("prompt") or "")
        model = self.runs_on
        for name in model.options:
            value = values.get(name, OPTIONS[name].default)
            if model.sends(name) and value not in ("", None):
                arguments[OPTIONS[name].fal] = value
        return arguments


def prompt_with_face(prompt: str) -> str:
    """The prompt of a run with a face: it names the face (`@Element1`); added at the end if missing."""
    if FACE_REFERENCE.lower() in prompt.lower():
        return prompt
    return f"{prompt.rstrip()} {FACE_REFERENCE}".strip()


@dataclass(frozen=True)
class Source:
    """One input: a file (an upload, the command line's path, or a local copy), or an http(s) URL.
    Both: the file was fetched from that URL (one on fal's CDN may go to fal as it is)."""

    file: str | None = None
    url: str | None = None

    @classmethod
    def given(cls, file: str | None, url: str | None = None) -> Source:
        """As a page or a caller gives it: a file wins over a URL typed beside it."""
        if file:
            return cls(file=file)
        url = (url or "").strip()
        return cls(url=url) if url else cls()

    def __bool__(self) -> bool:
        return bool(self.file or self.url)

    @property
    def name(self) -> str:
        """What the verdict calls it: the file's name, or the last part of the URL."""
        if self.file:
            return Path(self.file).name
        url = self.url or ""
        return urlsplit(url).path.rsplit("/", 1)[-1] or url

    @property
    def fetched_from(self) -> str | None:
        """The URL a local file came from (None for an upload, or for a URL not fetched yet)."""
        return self.url if self.file else None


@dataclass(frozen=True)
class FaceSources:
    """A face to keep consistent (v3): the frontal image and the other angles, each a `Source`."""

    frontal: Source = Source()
    angles: tuple[Source, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.frontal or any(self.angles))

    @classmethod
    def of_files(cls, face: Face) -> FaceSources:
        """A face whose images are local files already (fetched, or a run's own copies)."""
        return cls(Source(face.frontal), tuple(Source(angle) for angle in face.angles))

    def outline(self) -> Face:
        """The face's shape (which images there are) before anything is fetched: enough to refuse it."""
        frontal = self.frontal.file or self.frontal.url
        return Face(frontal, tuple(a.file or a.url or "" for a in self.angles if a))


@dataclass(frozen=True)
class Order:
    """What is asked for: the options, one (image, clip) pair per run, and the face they share.
    `compared`: a comparison's other models, each with its own options, each a run on the same pair."""

    options: Options
    pairs: tuple[tuple[Source, Source], ...]
    face: FaceSources = FaceSources()
    compared: tuple[Options, ...] = ()

    def __post_init__(self) -> None:
        """The rules between the inputs and the options, checked where an order is made (before
        anything is fetched): a face the model or its options can't take, and a prompt that naming
        the face would make too long."""
        if not self.face:
            return
        for options in self.each:
            check_face(options.model, options.get("orientation"), self.face.outline())
        prompt = OPTIONS["prompt"]
        named = prompt_with_face(self.options.get("prompt") or "")
        if prompt.max_chars is not None and len(named) > prompt.max_chars:
            raise OptionError.prompt_too_long(len(named), prompt.max_chars)

    @classmethod
    def of(
        cls,
        options: Options,
        image: Source,
        video: Source,
        *,
        more_images: tuple[Source, ...] = (),
        more_videos: tuple[Source, ...] = (),
        face: FaceSources = FaceSources(),
        compared: tuple[Options, ...] = (),
    ) -> Order:
        """One run, or a batch: more images (one clip, several characters), more clips (one
        character, several clips) or more models (the same pair on each: `compared`, the parser has
        kept them at `MAX_MODELS`), one kind only; at most `MAX_INPUTS` runs."""
        more_images = tuple(s for s in more_images if s)
        more_videos = tuple(s for s in more_videos if s)
        if compared:
            if more_images or more_videos:
                raise BatchError.compare_and_batch()
            return cls(options, ((image, video),) * (1 + len(compared)), face, compared)
        if more_images and more_videos:
            raise BatchError.both_kinds()
        size = 1 + len(more_images) + len(more_videos)
        if size > MAX_INPUTS:
            raise BatchError.too_many(size, MAX_INPUTS, "clip" if more_videos else "character image")
        if more_videos:
            pairs = tuple((image, other) for other in (video, *more_videos))
        else:
            pairs = tuple((other, video) for other in (image, *more_images))
        return cls(options, pairs, face)

    @property
    def size(self) -> int:
        return len(self.pairs)

    @property
    def is_batch(self) -> bool:
        return len(self.pairs) > 1

    @property
    def each(self) -> tuple[Options, ...]:
        """Each run's options, in the order's order: a comparison's differ, a batch's are the same."""
        return (self.options, *self.compared) if self.compared else (self.options,) * len(self.pairs)

    @property
    def varies(self) -> str:
        """ "image", "video" or "model": what each run has its own of."""
        if self.compared:
            return "model"
        if len(self.pairs) > 1 and self.pairs[0][0] == self.pairs[1][0]:
            return "video"
        return "image"

    @property
    def image(self) -> Source:
        return self.pairs[0][0]

    @property
    def video(self) -> Source:
        return self.pairs[0][1]

    def names(self) -> list[str]:
        """What the verdict calls each run: by its own input (the image, or the clip), or its model."""
        if self.compared:
            return [options.ran_as for options in self.each]
        column = 0 if self.varies == "image" else 1
        return [pair[column].name for pair in self.pairs]
