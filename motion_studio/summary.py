"""What the API and the MCP tools answer, as plain data: a run's summary, and what a check found.

Built from the run record and the inputs' reading, never from Gradio, so every caller that wants a run
as data (the API, the MCP tools, a script) gets the same fields with the same meaning. Pydantic models,
because the API's schema is read from them and each one dumps to JSON as it is.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from .batches.reading import BatchReading
from .catalog import OPTIONS, billed_seconds
from .history.runs import Run, RunEvent
from .input_reading import Reading
from .media.image import ImageInfo
from .media.video import VideoInfo
from .order import Options, Order
from .people_check import PeopleCheck
from .verdicts import batch_verdict, verdict


class Step(BaseModel):
    """One status the run went through, and when, counted from the run's start."""

    status: str
    after_seconds: float


class Timings(BaseModel):
    """When the run started and ended (UTC, ISO 8601) and where the time went. `before_fal_seconds`
    covers the checks and the upload; `on_fal_seconds` fal's queue, the generation and the download."""

    started_at: str
    submitted_at: str | None = None
    finished_at: str | None = None
    total_seconds: float | None = None
    before_fal_seconds: float | None = None
    on_fal_seconds: float | None = None
    steps: list[Step] = Field(default_factory=list)


class RunSummary(BaseModel):
    """A run as a script or an agent needs it: which fal request it was, what it was billed as, how
    it ended. `estimated_cost` is the studio's estimate (fal bills whole seconds of output); `error`
    is the one sentence saying why a run did not end well. `preview`: a few seconds on the family's
    Standard model (`model` is the one fal ran, `chosen_model` the one its full run will use);
    `preview_of`: the preview a full run was started from. `model_prompt` and `seed_used`: what the
    model told besides its video (Wan: the prompt it made, the seed it used; given as `seed`, the same
    video again), null for a model that tells neither. `sound_added_locally`: true when the clip's
    sound was put back here on a result that came without it, false when it could not be (the video
    is kept silent), null when there was nothing to do. Each option the run's model took follows, by
    its API parameter's name (`character_orientation`, `prompt`, `keep_original_sound`...)."""

    model_config = ConfigDict(extra="allow")  # the options: made from the catalogue, as the API's are

    run_id: str
    fal_request_id: str | None
    status: str
    model: str
    chosen_model: str
    preview: bool = False
    preview_of: str | None = None
    endpoint: str
    clip_seconds: float | None
    billed_seconds: int | None
    price_per_second: float | None
    estimated_cost: float | None
    currency: str = "USD"
    model_prompt: str | None = None
    seed_used: int | None = None
    sound_added_locally: bool | None = None
    error: str | None = None
    timings: Timings


class ImageFacts(BaseModel):
    """The character image as the model will see it (EXIF rotation applied)."""

    width: int
    height: int
    format: str
    size_bytes: int


class VideoFacts(BaseModel):
    """The reference clip as players show it (a phone's rotation applied)."""

    duration_seconds: float
    width: int
    height: int
    fps: float
    has_sound: bool
    codec: str
    container: str
    size_bytes: int


class Estimate(BaseModel):
    """What a run with these inputs would cost: whole seconds of the clip fal gets (a preview's first
    seconds), rounded up, at the price of the model fal runs."""

    model: str
    preview: bool = False
    endpoint: str
    clip_seconds: float
    billed_seconds: int
    price_per_second: float
    estimated_cost: float
    currency: str = "USD"


class PeopleWarningData(BaseModel):
    """One warning of the people check: `code` is stable (match on it), `message` one sentence with
    the fix, `subject` "image", "clip" or "both". A warning never makes inputs not ready."""

    code: str
    message: str
    subject: str


class CheckSummary(BaseModel):
    """What `check` found, without uploading or spending anything. `verdict` is one sentence: ready,
    or the first thing to fix (`problems` lists them all); `notes` say what will be converted first;
    `trim_to_seconds` is set when the clip is only too long (its first that many seconds would do).
    `people_warnings` are the people check's (never part of `ready`: Kling may still manage);
    `people_check_skipped` says why that check did not run, on an input or at all."""

    ready: bool
    verdict: str
    problems: list[str]
    notes: list[str]
    image: ImageFacts | None
    video: VideoFacts | None
    estimate: Estimate | None
    trim_to_seconds: float | None = None
    face_images: list[ImageFacts] = Field(default_factory=list)  # the face's, frontal first (v3)
    people_warnings: list[PeopleWarningData] = Field(default_factory=list)
    people_check_skipped: str | None = None


class BatchSummary(BaseModel):
    """A batch as a script or an agent needs it: every run's summary, in the batch's order (the grid's
    order too: row by row). `status` is "done" when every run is, "failed" when none is, else
    "partly done"; `estimated_cost` is the sum of the runs' estimates."""

    batch_id: str
    status: str
    runs_done: int
    runs_total: int
    estimated_cost: float | None
    currency: str = "USD"
    runs: list[RunSummary]


class BatchEstimate(BaseModel):
    """What the whole batch would cost: every run's whole seconds of clip at its model's price. A
    comparison's `model` is its chosen model, `models` every one of them (each run's estimate is in
    `runs` of the check), and `price_per_second` null: the models' prices differ."""

    model: str
    endpoint: str
    runs: int
    billed_seconds: int
    price_per_second: float | None
    estimated_cost: float
    models: list[str] = Field(default_factory=list)
    currency: str = "USD"


class BatchCheckSummary(BaseModel):
    """What `check` found for a batch, without uploading or spending anything: one `verdict` (ready,
    or the first thing to fix) and one `estimate` for the whole batch. `problems` lists every problem,
    each naming the input it is about; `varies` says which input each run has its own of ("image" or
    "video", or "model" for a comparison), `inputs` names them; `runs` is each run's own check, in
    the batch's order."""

    ready: bool
    verdict: str
    problems: list[str]
    varies: str
    inputs: list[str]
    estimate: BatchEstimate | None
    runs: list[CheckSummary]


def run_summary(run: Run, events: list[RunEvent]) -> RunSummary:
    """`run` with its timeline (`history.reads.events`), as data."""
    try:
        model = run.options.runs_on
    except ValueError:
        model = None  # a model this release no longer offers
    billed = billed_seconds(run.clip_seconds) if run.clip_seconds is not None else None
    return RunSummary(
        run_id=run.id,
        fal_request_id=run.request_id,
        status=run.status,
        model=model.name if model else run.options.model,
        chosen_model=run.options.model,
        preview=run.is_preview,
        preview_of=run.preview_of,
        endpoint=run.endpoint,
        **{OPTIONS[name].api_name: value for name, value in run.options.values.items() if name in OPTIONS},
        clip_seconds=_rounded(run.clip_seconds),
        billed_seconds=billed,
        price_per_second=run.options.price_per_second if model else None,
        estimated_cost=run.estimated_cost,
        model_prompt=run.returned.get("prompt"),
        seed_used=run.returned.get("seed"),
        sound_added_locally=run.sound_added,
        error=run.error_message,
        timings=_timings(run, events),
    )


def _timings(run: Run, events: list[RunEvent]) -> Timings:
    start = run.created_at
    end = run.finished_at
    submitted = run.submitted_at
    return Timings(
        started_at=_iso(start) or "",
        submitted_at=_iso(submitted),
        finished_at=_iso(end),
        total_seconds=_rounded(end - start) if end else None,
        before_fal_seconds=_rounded(submitted - start) if submitted else None,
        on_fal_seconds=_rounded(end - submitted) if end and submitted else None,
        steps=[Step(status=e.state, after_seconds=_rounded(e.at - start) or 0.0) for e in events],
    )


def check_summary(
    reading: Reading,
    options: Options,
    clip: VideoInfo | None = None,
    people: PeopleCheck | str | None = None,
) -> CheckSummary:
    """`reading` as data. `clip`: the clip's facts when the reading refused it (too long, say), so a
    caller still learns what was read. `people`: the people check, or the sentence saying why it did
    not run (turned off); None when there was nothing to check."""
    image_report, video_report = reading.image_report, reading.video_report
    video = video_report.info if video_report else clip
    estimate = None
    if reading.seconds is not None and reading.cost is not None:
        model, sent = options.runs_on, options.sent_seconds(reading.seconds)
        estimate = Estimate(
            model=model.name,
            preview=options.preview,
            endpoint=model.endpoint,
            clip_seconds=_rounded(sent) or 0.0,
            billed_seconds=billed_seconds(sent),
            price_per_second=options.price_per_second,
            estimated_cost=reading.cost,
        )
    return CheckSummary(
        ready=reading.ready,
        verdict=verdict(reading).sentence,
        problems=list(reading.problems),
        notes=list(reading.notes),
        image=_image_facts(image_report.info) if image_report else None,
        video=_video_facts(video) if video else None,
        estimate=estimate,
        trim_to_seconds=reading.trim_to,
        face_images=[_image_facts(report.info) for report in reading.face_reports],
        people_warnings=[
            PeopleWarningData.model_validate(w.as_dict())
            for w in (people.warnings if isinstance(people, PeopleCheck) else ())
        ],
        people_check_skipped=people.skipped if isinstance(people, PeopleCheck) else people,
    )


def batch_summary(batch_id: str, runs: list[tuple[Run, list[RunEvent]]]) -> BatchSummary:
    """A batch's runs (each with its timeline), in the batch's order, as data."""
    done = sum(run.status == "done" for run, _ in runs)
    costs = [run.estimated_cost for run, _ in runs]
    return BatchSummary(
        batch_id=batch_id,
        status="done" if runs and done == len(runs) else "failed" if not done else "partly done",
        runs_done=done,
        runs_total=len(runs),
        estimated_cost=None if None in costs else round(sum(c or 0.0 for c in costs), 4),
        runs=[run_summary(run, events) for run, events in runs],
    )


def batch_check_summary(
    reading: BatchReading, order: Order, people: list[PeopleCheck | str | None] | None = None
) -> BatchCheckSummary:
    """A batch's reading as data: one verdict and one estimate, and each run's own check."""
    options = order.options
    model = options.runs_on
    estimate = None
    if reading.cost is not None:
        estimate = BatchEstimate(
            model=model.name,
            endpoint=model.endpoint,
            runs=reading.size,
            billed_seconds=sum(
                billed_seconds(options.sent_seconds(r.seconds or 0.0)) for r in reading.readings
            ),
            price_per_second=None if order.compared else options.price_per_second,
            estimated_cost=reading.cost,
            models=[o.runs_on.name for o in order.each] if order.compared else [],
        )
    found = people or [None] * len(reading.readings)
    return BatchCheckSummary(
        ready=reading.ready,
        verdict=batch_verdict(reading).sentence,
        problems=list(reading.problems),
        varies=reading.varies,
        inputs=list(reading.names),
        estimate=estimate,
        runs=[
            check_summary(r, each, None, p)
            for r, each, p in zip(reading.readings, order.each, found, strict=True)
        ],
    )


def _image_facts(info: ImageInfo) -> ImageFacts:
    return ImageFacts(width=info.width, height=info.height, format=info.format, size_bytes=info.size_bytes)


def _video_facts(info: VideoInfo) -> VideoFacts:
    width, height = info.display_size
    return VideoFacts(
        duration_seconds=_rounded(info.duration) or 0.0,
        width=width,
        height=height,
        fps=round(info.fps, 3),
        has_sound=info.has_audio,
        codec=info.codec,
        container=info.container,
        size_bytes=info.size_bytes,
    )


def _iso(timestamp: float | None) -> str | None:
    if not timestamp:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 2)
