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

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.fields import FieldInfo

from .catalog import (
    FACE_REFERENCE,
    LIMITS,
    ORIENTATION_HELP,
    ORIENTATION_MAX_SECONDS,
    PREVIEW_SECONDS,
    TIERS,
    Face,
    ModelTier,
    check_face,
    either,
    format_price,
    tier,
)
from .errors import BatchError, OptionError

MAX_INPUTS = 8  # character images (or clips) in one batch, the first one included


def _models_help() -> str:
    """The models as the API describes them, made from the catalogue (whose prices may be settings)."""
    return "; ".join(
        f"'{t.name}': {t.resolution}, {format_price(t.price_per_second)} of video"
        + (", can keep a face consistent (face_image)" if t.face_binding else "")
        for t in TIERS.values()
    )


class Options(BaseModel):
    """The choices of a run, each a field whose metadata says how fal, the API and the CLI name it.

    `json_schema_extra` keys: `fal` (the name in fal's request body; absent: not sent as a field),
    `api` (the API's parameter name; default the field's name), `cli` (the command line's flags;
    default `--field-name`, or `--no-field-name` for a flag that is on by default).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")  # a stored field no longer offered is skipped

    orientation: str = Field(
        "video",
        description=" ".join(f"'{name}': {text}." for name, text in ORIENTATION_HELP.items()),
        json_schema_extra={"fal": "character_orientation", "api": "character_orientation"},
    )
    prompt: str = Field(
        "",
        description=f"Optional text describing the scene or the character (up to {LIMITS.prompt_max_chars} characters).",
        json_schema_extra={"fal": "prompt"},
    )
    keep_sound: bool = Field(
        True,
        description="Keep the reference clip's sound in the output video.",
        json_schema_extra={"fal": "keep_original_sound", "api": "keep_original_sound", "cli": "--no-sound"},
    )
    model: str = Field(
        "pro",
        description="The model: {models}.",  # filled from the catalogue where it is shown
        json_schema_extra={"cli": ["--model", "--tier"]},
    )
    preview: bool = Field(
        False,
        description=f"Send a {PREVIEW_SECONDS:g}-second preview instead of the full run: the clip's first "
        f"{PREVIEW_SECONDS:g} s on the Standard model of the chosen model's family, to see whether the "
        "character and the motion map before paying for the whole clip.",
        json_schema_extra={"cli": "--preview"},
    )

    @field_validator("orientation")
    @classmethod
    def _known_orientation(cls, value: str) -> str:
        """An API caller may send any string: refused in one sentence, before anything is read."""
        if value not in ORIENTATION_MAX_SECONDS:
            choices = either([f"'{o}'" for o in ORIENTATION_MAX_SECONDS])
            raise OptionError.orientation(value, choices)
        return value

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        if value not in TIERS:
            raise OptionError.model(value, either([f"'{t}'" for t in TIERS]))
        return value

    @field_validator("prompt", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        return "" if value is None else value

    @field_validator("preview", mode="before")
    @classmethod
    def _not_asked(cls, value: object) -> object:
        """An API caller that sends null for an optional flag did not ask for a preview."""
        return False if value is None else value

    @property
    def runs_on(self) -> ModelTier:
        """The model fal runs: the chosen one, or for a preview its family's Standard model."""
        chosen = tier(self.model)
        return tier(chosen.preview) if self.preview else chosen

    def sent_seconds(self, clip_seconds: float) -> float:
        """How much of the clip fal gets: all of it, or a preview's first seconds."""
        return min(clip_seconds, PREVIEW_SECONDS) if self.preview else clip_seconds

    def estimate_cost(self, clip_seconds: float) -> float:
        """What a run on a clip this long costs, as sent (a preview: its seconds, its model)."""
        return self.runs_on.estimate_cost(self.sent_seconds(clip_seconds))

    def fal_arguments(self, image_url: str, video_url: str, face: Face | None = None) -> dict[str, Any]:
        """fal's request body, exactly as its input schema gives it: every option with a fal name
        (an empty text left out), and `elements` (the face's uploaded URLs) only for a face, which
        the prompt then names."""
        arguments: dict[str, Any] = {"image_url": image_url, "video_url": video_url}
        values = self.model_dump()
        if face:
            check_face(self.model, self.orientation, face)
            arguments["elements"] = [face.element()]
            values["prompt"] = prompt_with_face(self.prompt)
        for name, info in Options.model_fields.items():
            fal_name = _extra(info).get("fal")
            if fal_name and values[name] != "":
                arguments[str(fal_name)] = values[name]
        return arguments


def _extra(info: FieldInfo) -> dict[str, Any]:
    extra = info.json_schema_extra
    return dict(extra) if isinstance(extra, dict) else {}


@dataclass(frozen=True)
class OptionField:
    """One option as the API and the command line offer it."""

    name: str  # the field of `Options`
    api: str
    cli: tuple[str, ...]
    kind: type
    default: Any
    description: str
    choices: tuple[str, ...] = ()


def option_fields() -> list[OptionField]:
    """Every option as the API and the command line offer it, made from `Options` (the choices and
    the models' prices read from the catalogue now, so a price set by a setting is the one shown)."""
    choices = {"orientation": tuple(ORIENTATION_MAX_SECONDS), "model": tuple(TIERS)}
    fields = []
    for name, info in Options.model_fields.items():
        extra = _extra(info)
        flag = ("--no-" if info.default is True else "--") + name.replace(
            "_", "-"
        )  # a flag turns a default around
        cli = extra.get("cli") or flag
        kind = info.annotation if isinstance(info.annotation, type) else str
        fields.append(
            OptionField(
                name=name,
                api=str(extra.get("api", name)),
                cli=(cli,) if isinstance(cli, str) else tuple(cli),
                kind=kind,
                default=info.default,
                description=(info.description or "").format(models=_models_help()),
                choices=choices.get(name, ()),
            )
        )
    return fields


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
    """What is asked for: the options, one (image, clip) pair per run, and the face they share."""

    options: Options
    pairs: tuple[tuple[Source, Source], ...]
    face: FaceSources = FaceSources()

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
    ) -> Order:
        """One run, or a batch: more images (one clip, several characters) or more clips (one
        character, several clips), never both; at most `MAX_INPUTS` runs."""
        more_images = tuple(s for s in more_images if s)
        more_videos = tuple(s for s in more_videos if s)
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
    def varies(self) -> str:
        """ "image" or "video": the input each run has its own of."""
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
        """What the verdict calls each run: by its own input (the image, or the clip)."""
        column = 0 if self.varies == "image" else 1
        return [pair[column].name for pair in self.pairs]
