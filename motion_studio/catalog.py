"""The model catalogue, the one description of what can be asked: each model (its endpoint, price,
input limits, preview model and the options it takes) and each option (`OPTIONS`: its type, default,
choices or bounds, fal's name and one line of help). Every edge (page, API, MCP, CLI, run card,
summary, the manual's table, the test emulator) is made from it (sources: the models' pages and API
schemas on fal.ai).

Where sources disagree (minimum image side 300 or 340 px) the stricter value is used, so that a run
the app lets through is not refused by fal after the user has waited for the upload. Where prices
disagree (v3), the higher figure is the default and a setting overrides it (`apply_prices`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Literal

from .errors import FaceElementError

# Where a caller sets options: each names a parameter its own way (`Option.api_name`, a flag, a label).
Edge = Literal["api", "cli", "page"]


@dataclass(frozen=True)
class Choice:
    """One value a choice option takes, its one line, the longest clip a model takes with it, and the
    model's price with it (where the price depends on the choice)."""

    value: str
    help: str
    clip_max_seconds: float | None = None
    price_per_second: float | None = None  # the model's price with this choice (Wan's resolution)


@dataclass(frozen=True)
class Option:
    """One option a caller can set, described once: every edge (the page's control, the API's and the
    MCP tools' parameter, the command line's flag, the run card, the summary, the docs' table and the
    test emulator's schema) is made from this.

    `fal`: the field in fal's request body, and the API's parameter name ("" for an option of the
    studio's own, not sent). `kind`: str (text, or one of `choices`), bool, int or float. `flags`: the
    command line's (default `--name`, or `--no-name` for a flag on by default), and `flag_help` what
    that flag does where its words differ from `help`. `appended`: the option came after the face and
    batch parameters, so the API lists it after them (a positional caller's arguments never shift)."""

    name: str
    label: str
    help: str
    kind: type
    default: Any
    fal: str = ""
    choices: tuple[Choice, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_chars: int | None = None
    flags: tuple[str, ...] = ()
    flag_help: str = ""
    short: str = ""  # what a run's card calls it (default: the label)
    words: tuple[str, str] = ("yes", "no")  # a flag's value on a run's card: on, off
    unset: str = "-"  # what a run's card says of an option left empty (a seed: the model picks)
    appended: bool = True

    @property
    def api_name(self) -> str:
        return self.fal or self.name

    def shown(self, value: Any) -> str:
        """A value as a run's card and caption say it."""
        if value is None:
            return self.unset
        if self.kind is bool:
            return self.words[0] if value else self.words[1]
        return str(value)

    @property
    def cli_flags(self) -> tuple[str, ...]:
        if self.flags:
            return self.flags
        off = self.kind is bool and self.default is True  # the flag turns the default around
        return (("--no-" if off else "--") + self.name.replace("_", "-"),)

    @property
    def choice_values(self) -> tuple[str, ...]:
        return tuple(choice.value for choice in self.choices)

    def choice(self, value: object) -> Choice | None:
        return next((c for c in self.choices if c.value == value), None)

    @property
    def accepts(self) -> str:
        """What the option takes, in a few words: the docs' table and a refusal's sentence say it."""
        if self.kind is list:
            return f"a list of at most {self.maximum:g} of {either([repr(v) for v in self.choice_values])}"
        if self.kind is bool:
            return "true or false"
        if self.choices:
            return either([f"'{value}'" for value in self.choice_values])
        if self.kind is str:
            return f"text of at most {self.max_chars} characters" if self.max_chars else "text"
        what = "a whole number" if self.kind is int else "a number"
        low, high = _number(self.minimum), _number(self.maximum)
        if low and high:
            return f"{what} from {low} to {high}"
        if low:
            return f"{what} of at least {low}"
        return f"{what} of at most {high}" if high else what


def _number(value: float | None) -> str:
    """A bound as a person writes it: 2147483647, 1.5, 0 (never 2.14748e+09)."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class Limits:
    """A model's input limits (Kling's motion-control text, as fal's model page quotes it)."""

    min_seconds: float = 3.0
    max_seconds: float = 30.0
    video_formats: tuple[str, ...] = ("mp4", "mov")
    video_max_bytes: int = 100 * 1024 * 1024
    video_min_side: int = 340
    video_max_side: int = 3850
    image_formats: tuple[str, ...] = ("JPEG", "PNG")
    image_max_bytes: int = 10 * 1024 * 1024
    image_min_side: int = 340
    image_max_aspect: float = 2.5


LIMITS = Limits()

# Every option a model may take, each described once; a model names the ones it takes.
OPTIONS: dict[str, Option] = {
    option.name: option
    for option in (
        Option(
            name="orientation",
            fal="character_orientation",
            label="Character orientation",
            help="Whose orientation the character takes: the image's or the clip's.",
            short="Orientation",
            kind=str,
            default="video",
            choices=(
                Choice(
                    "video",
                    "follows the body orientation of the clip; better for complex motion; clip up to 30 s",
                    clip_max_seconds=30.0,
                ),
                Choice(
                    "image",
                    "keeps the pose of your image; better with camera moves; clip up to 10 s",
                    clip_max_seconds=10.0,
                ),
            ),
            appended=False,
        ),
        Option(
            name="prompt",
            fal="prompt",
            label="Prompt (optional)",
            help="Optional text describing the scene or the character.",
            short="Prompt",
            kind=str,
            default="",
            max_chars=2500,
            appended=False,
        ),
        Option(
            name="keep_sound",
            fal="keep_original_sound",
            label="Keep the reference clip's sound",
            help="Keep the reference clip's sound in the output video.",
            short="Sound",
            words=("kept", "dropped"),
            kind=bool,
            default=True,
            flags=("--no-sound",),
            flag_help="Drop the reference clip's sound from the output video (kept by default).",
            appended=False,
        ),
        Option(
            name="resolution",
            fal="resolution",
            label="Resolution",
            help="The output's resolution; the price follows it.",
            kind=str,
            default="480p",
            choices=(
                Choice(
                    "480p", "$0.04/s of video; the cheapest, good for a first look", price_per_second=0.04
                ),
                Choice("580p", "$0.06/s of video", price_per_second=0.06),
                Choice("720p", "$0.08/s of video; the sharpest", price_per_second=0.08),
            ),
        ),
        Option(
            name="seed",
            fal="seed",
            label="Seed (optional)",
            help="The same seed with the same inputs gives the same video; empty: a new one each run "
            "(the run keeps the one the model used).",
            short="Seed",
            unset="new each run",
            kind=int,
            default=None,
            minimum=0,
            maximum=2**31 - 1,
        ),
        Option(
            name="guidance_scale",
            fal="guidance_scale",
            label="Guidance scale",
            help="How closely the model follows its inputs; higher is stricter.",
            short="Guidance",
            kind=float,
            default=1.0,
            minimum=0.0,
            maximum=10.0,
        ),
        Option(
            name="trim_first_second",
            fal="trim_first_second",
            label="Trim the first second",
            help="Cut the model's one-second lead-in from the output, so the result lines up with the clip.",
            short="Lead-in",
            words=("trimmed", "kept"),
            kind=bool,
            default=True,
            flags=("--keep-first-second",),
            flag_help="Keep the model's one-second lead-in at the start of the output (trimmed by default).",
        ),
    )
}

# The studio's own choices for a run, not sent to fal as fields: they pick where and how much.
PREVIEW_OPTION = Option(
    name="preview",
    label="Preview",
    help=f"Send a {LIMITS.min_seconds:g}-second preview instead of the full run: the clip's first "
    f"{LIMITS.min_seconds:g} s on the cheapest model of the chosen model's family, to see whether the "
    "character and the motion map before paying for the whole clip.",
    kind=bool,
    default=False,
    appended=False,
)


@dataclass(frozen=True)
class Family:
    """Models of one maker that do the same thing at different prices: the page groups them, and a
    preview of any of them goes to the family's cheapest setting."""

    name: str
    short: str  # what a grid's label and a run's card put before a model's title
    help: str  # what the family is for, in one line


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family(
            "kling",
            "Kling",
            "Kling Motion Control: your character performs the clip's motion in your image's scene; it "
            "follows the clip's largest person, and a prompt can steer it.",
        ),
        Family(
            "wan",
            "Wan",
            "Wan 2.2 Animate: the cheapest; Move animates your image, Replace puts your character into "
            "the clip's own scene and light.",
        ),
        Family(
            "dreamactor",
            "DreamActor",
            "DreamActor v2 (ByteDance): several characters and non-human ones, your image's background "
            "kept, lips copied from the clip.",
        ),
    )
}


@dataclass(frozen=True)
class ModelTier:
    """One model on fal: its family, what it is for, its endpoint, its price per second of output (or
    its choices' prices), its input limits, where a preview of a run on it goes (its family's cheapest
    model, with `preview_values`: Wan's lowest resolution) and the options it takes (by name, from
    `OPTIONS`). `local`: options it takes that the studio does itself, never sent (keeping the clip's
    sound, for a model whose output has none). `returns`: what its result carries besides the video,
    kept with the run (Wan: the prompt it made, the seed it used). `face_binding`: it takes fal's
    `elements` (a face kept consistent)."""

    name: str
    family: str
    purpose: str
    endpoint: str
    price_per_second: float
    resolution: str
    title: str
    preview: str
    options: tuple[str, ...]
    local: tuple[str, ...] = ()
    preview_values: tuple[tuple[str, Any], ...] = ()
    returns: tuple[str, ...] = ()
    limits: Limits = LIMITS
    face_binding: bool = False

    @property
    def full_title(self) -> str:
        """The model named with its family ("Kling Pro", "Wan Move"): a comparison's grid says it."""
        short = FAMILIES[self.family].short
        return self.title if self.title.startswith(short) else f"{short} {self.title}"

    @property
    def label(self) -> str:
        """What the page's model choice says; made from the price, which may be a setting."""
        face = " · face binding" if self.face_binding else ""
        low, high = self.price_range()
        price = (
            format_price(low)
            if low == high
            else f"{format_price(low).removesuffix('/s')}–{format_price(high)}"
        )
        parts = [self.title, self.resolution, price]
        return " · ".join(part for part in parts if part) + face

    def price(self, values: dict[str, Any]) -> float:
        """The price per second with these option values: a chosen value's own price, else the model's."""
        for name in self.options:
            choice = OPTIONS[name].choice(values.get(name, OPTIONS[name].default))
            if choice is not None and choice.price_per_second is not None:
                return choice.price_per_second
        return self.price_per_second

    def price_range(self) -> tuple[float, float]:
        """The lowest and highest price per second any of its options' choices gives."""
        prices = [
            c.price_per_second for name in self.options for c in OPTIONS[name].choices if c.price_per_second
        ]
        return (min(prices), max(prices)) if prices else (self.price_per_second, self.price_per_second)

    def estimate_cost(self, seconds: float, values: dict[str, Any] | None = None) -> float:
        """Billing is per second of output, which follows the clip; whole seconds, rounded up, to be safe."""
        return round(billed_seconds(seconds) * self.price(values or {}), 3)

    def takes(self, option: str) -> bool:
        return option in self.options

    def sends(self, option: str) -> bool:
        """It takes the option as a field of fal's request (not one the studio does itself)."""
        return option in self.options and option not in self.local

    def fal_fields(self) -> frozenset[str]:
        """Every field of this model's request body (what fal's schema for its endpoint accepts)."""
        face = {"elements"} if self.face_binding else set()
        sent = (OPTIONS[o].fal for o in self.options if self.sends(o))
        return frozenset({"image_url", "video_url", *sent, *face})


def billed_seconds(seconds: float) -> int:
    """The seconds a clip is billed as: whole seconds, rounded up (6.2 s is billed as 7 s)."""
    return math.ceil(max(seconds, 0.0) - 1e-9)


# A preview is the shortest clip Kling takes, on the cheapest model of the chosen family: enough to see
# whether the character, the framing and the motion map, for a fraction of the full run's price.
PREVIEW_SECONDS = LIMITS.min_seconds

# The public figures for v3 disagree ($0.168/s or $0.126/s for pro): these defaults are the higher
# ones, and `MOTION_STUDIO_V3_PRO_PRICE` / `_V3_STANDARD_PRICE` override them (see `apply_prices`).
V3_PRO_PRICE = 0.168
V3_STANDARD_PRICE = 0.126
# DreamActor's price is not published where we could confirm it (one third-party figure: $0.10/s):
# the default is higher, so that an estimate and a spending cap err on the safe side, and
# `MOTION_STUDIO_DREAMACTOR_PRICE` sets the real one.
DREAMACTOR_PRICE = 0.15
KLING_OPTIONS = ("orientation", "prompt", "keep_sound")
# Wan's output has no sound (not stated by fal: assumed), so keeping the clip's sound is the studio's
# own work; its price follows the resolution (fal bills the output's seconds).
WAN_OPTIONS = ("resolution", "seed", "guidance_scale", "keep_sound")
WAN_PREVIEW = (("resolution", "480p"),)


def _kling(name: str, preview: str, version: str, grade: str, price: float, face: bool) -> ModelTier:
    title = f"{version} {grade.title()}".strip()
    return ModelTier(
        name=name,
        family="kling",
        purpose=(
            "its highest quality" if grade == "pro" else "the same motion, cheaper and at a lower resolution"
        )
        + ("; can keep a face consistent" if face else ""),
        preview=preview,
        endpoint=f"fal-ai/kling-video/{version or 'v2.6'}/{grade}/motion-control",
        price_per_second=price,
        resolution="1080p" if grade == "pro" else "720p",
        title=title,
        options=KLING_OPTIONS,
        face_binding=face,
    )


def _wan(task: str, purpose: str) -> ModelTier:
    """Wan 2.2 Animate's two endpoints (`move`, `replace`): the same fields, prices and preview."""
    return ModelTier(
        name=f"wan-{task}",
        family="wan",
        purpose=purpose,
        preview=f"wan-{task}",
        preview_values=WAN_PREVIEW,
        endpoint=f"fal-ai/wan/v2.2-14b/animate/{task}",
        price_per_second=0.04,
        resolution="480p–720p",
        title=f"Wan {task.title()}",
        options=WAN_OPTIONS,
        local=("keep_sound",),
        returns=("prompt", "seed"),
    )


TIERS: dict[str, ModelTier] = {
    model.name: model
    for model in (
        _kling("pro", "standard", "", "pro", 0.112, face=False),
        _kling("standard", "standard", "", "standard", 0.07, face=False),
        _kling("v3-pro", "v3-standard", "v3", "pro", V3_PRO_PRICE, face=True),
        _kling("v3-standard", "v3-standard", "v3", "standard", V3_STANDARD_PRICE, face=True),
        _wan("move", "your image, its scene included, performs the clip's motion; the cheapest"),
        _wan("replace", "the clip's person is replaced by your character; the clip's scene and light kept"),
        ModelTier(
            name="dreamactor",
            family="dreamactor",
            purpose="several characters, or a non-human one; your image's background kept",
            preview="dreamactor",
            endpoint="fal-ai/bytedance/dreamactor/v2",
            price_per_second=DREAMACTOR_PRICE,
            resolution="",
            title="DreamActor v2",
            options=("trim_first_second", "keep_sound"),
            local=("keep_sound",),
        ),
    )
}
FACE_TIERS = tuple(name for name, model in TIERS.items() if model.face_binding)

# fal's `elements`: at most one element, an optional frontal image and 0-3 more angles, named in the
# prompt as `@Element1`, only with orientation `video` (v3 only).
FACE_MAX_ANGLES = 3
FACE_REFERENCE = "@Element1"
FACE_ORIENTATION = "video"


def apply_prices(prices: dict[str, float]) -> None:
    """Set the price of models whose price is a setting (the settings call this once they are read):
    every estimate, budget check, label and API description reads the catalogue, so they all agree."""
    for name, price in prices.items():
        TIERS[name] = replace(tier(name), price_per_second=price)


def model_option(default: str) -> Option:
    """The model a run goes to, as an option: its choices are the catalogue's models (made now, so a
    price set by a setting is the one described); `default` is the server's setting."""
    return Option(
        name="model",
        label="Model",
        help="The model fal runs.",
        kind=str,
        default=default,
        choices=tuple(Choice(m.name, _model_line(m)) for m in TIERS.values()),
        flags=("--model", "--tier"),
        appended=False,
    )


# A comparison: one character and one clip on up to this many models (the chosen one included).
MAX_MODELS = 4


def compare_option(default: str) -> Option:
    """The other models a comparison runs the same inputs on (the API's `more_models`, the command
    line's repeated `--compare`, the page's "Compare models")."""
    return Option(
        name="more_models",
        label="Compare models",
        help=f"Run the same image and clip on up to {MAX_MODELS - 1} more models too, for one price (the "
        "sum) and one grid video with each result labelled by its model; each takes the options it has. "
        f"Not with more images or clips; without it only the chosen model runs ({default!r} unless one is "
        "chosen).",
        kind=list,
        default=None,
        choices=tuple(Choice(m.name, _model_line(m)) for m in TIERS.values()),
        maximum=MAX_MODELS - 1,
        flags=("--compare",),
    )


def _model_line(model: ModelTier) -> str:
    low, high = model.price_range()
    price = format_price(low) if low == high else f"{format_price(low)} to {format_price(high)}"
    resolution = f"{model.resolution}, " if model.resolution else ""
    return f"{model.full_title}: {model.purpose}; {resolution}{price} of video"


def takers(option: str) -> list[str]:
    """The models that take an option, by name."""
    return [m.name for m in TIERS.values() if m.takes(option)]


def tier(name: str) -> ModelTier:
    try:
        return TIERS[name]
    except KeyError:
        raise ValueError(f"Unknown tier {name!r}; choose one of {', '.join(TIERS)}.") from None


@dataclass(frozen=True)
class Face:
    """The images of one face to keep consistent (fal's one element): paths, or URLs once uploaded."""

    frontal: str | None = None
    angles: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.frontal or self.angles)

    @property
    def images(self) -> tuple[str, ...]:
        """Every image, the frontal one first."""
        return (self.frontal, *self.angles) if self.frontal else self.angles

    def element(self) -> dict[str, Any]:
        """fal's element: `frontal_image_url` only when there is one, `reference_image_urls` likewise."""
        element: dict[str, Any] = {}
        if self.frontal:
            element["frontal_image_url"] = self.frontal
        if self.angles:
            element["reference_image_urls"] = list(self.angles)
        return element


def check_face(tier_name: str, orientation: str, face: Face | None) -> None:
    """Refuse a face fal would refuse (or that the chosen model would ignore), before anything is sent."""
    if not face:
        return
    model = tier(tier_name)
    if not model.face_binding:
        raise FaceElementError.model(model.name, either([f"'{name}'" for name in FACE_TIERS]))
    if orientation != FACE_ORIENTATION:
        raise FaceElementError.orientation()
    if len(face.angles) > FACE_MAX_ANGLES:
        raise FaceElementError.too_many(len(face.angles), FACE_MAX_ANGLES)


def options_under(
    cap: float, seconds: float, tier_name: str, *, face: bool = False, price: float | None = None
) -> list[str]:
    """What would fit under a per-run cap on the server's key, and only that: a shorter clip (if one
    long enough for the model fits), another model of its family (if it fits, and keeps the face when
    one is given), and always one's own key. `price`: the run's own price per second (a choice may set it)."""
    model = tier(tier_name)
    options = []
    longest = math.floor(cap / (price or model.price_per_second) + 1e-9)
    if LIMITS.min_seconds <= longest < billed_seconds(seconds):
        options.append(f"a clip of at most {longest} s")
    options += [
        f"the {other.name} model"
        for other in TIERS.values()
        if other.name != model.name
        and other.family == model.family  # another family is another kind of result, not a cheaper run
        and other.estimate_cost(seconds) <= cap
        and (other.face_binding or not face)
    ]
    return [*options, "your own fal key"]


def either(options: list[str]) -> str:
    """["a", "b", "c"] -> "a, b or c"."""
    return options[0] if len(options) == 1 else ", ".join(options[:-1]) + " or " + options[-1]


def format_cost(dollars: float) -> str:
    return f"${dollars:.2f}"


def format_price(dollars_per_second: float) -> str:
    """Prices have three significant decimals ($0.112/s); rounding them to cents would mislead."""
    return f"${dollars_per_second:.3f}".rstrip("0").rstrip(".") + "/s"


# fal's own published sample inputs for motion control (a real person, as the model needs), hosted
# on fal's CDN: the page's first example, passed to fal as they are.
FAL_SAMPLE_IMAGE = "https://v3b.fal.media/files/b/0a875302/8NaxQrQxDNHppHtqcchMm.png"
FAL_SAMPLE_VIDEO = "https://v3b.fal.media/files/b/0a8752bc/2xrNS217ngQ3wzXqA7LXr_output.mp4"
