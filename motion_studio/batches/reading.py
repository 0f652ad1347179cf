"""A batch's verdict before Generate: every input read once, each problem named after the input it
is about, with the caps of whoever pays and the daily budget for the batch as a whole."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from ..catalog import Face
from ..errors import BudgetError, OwnKeyRequiredError, StudioError
from ..history.store import History
from ..input_reading import InputReader, Reading
from ..order import FaceSources, Order, Source
from ..settings import Settings


@dataclass(frozen=True)
class BatchReading:
    """What a batch's inputs amount to. `readings` are each run's inputs as read (local files), in
    the batch's order; `problems` every sentence that keeps the batch from starting, each naming the
    input it is about (one shared by all runs is said once)."""

    varies: str
    names: tuple[str, ...]
    readings: tuple[Reading, ...] = ()
    urls: tuple[tuple[str | None, str | None], ...] = ()  # the URL each run's image and clip came from
    problems: tuple[str, ...] = ()
    face: Face = field(default_factory=Face)  # the face's images as local files, for every run

    @property
    def size(self) -> int:
        return len(self.names)

    @property
    def ready(self) -> bool:
        return bool(self.readings) and not self.problems and all(r.ready for r in self.readings)

    @property
    def cost(self) -> float | None:
        """The whole batch's estimate, once every run's clip is known."""
        costs = [r.cost for r in self.readings]
        if not costs or any(c is None for c in costs):
            return None
        return round(sum(c for c in costs if c is not None), 4)

    def with_problem(self, problem: str) -> BatchReading:
        return self if problem in self.problems else replace(self, problems=(*self.problems, problem))


class BatchReader:
    """Reads a batch's inputs into its `BatchReading` (one per `Batches`)."""

    def __init__(self, settings: Settings, history: History, reader: InputReader) -> None:
        self.settings = settings
        self.history = history
        self.reader = reader

    def read(self, order: Order, session_key: str | None = None) -> BatchReading:
        """Every input read once (a URL fetched once, however many runs use it), then each run's
        inputs as a run would read them, with the caps of whoever pays (a pasted key lifts the
        server's), and the daily budget for the batch as a whole."""
        names = tuple(order.names())
        pasted = bool(session_key and session_key.strip())
        local, problems = self._local_files(order)
        face, face_problem = self._pick_face(order)
        problems += [face_problem] if face_problem else []
        readings = tuple(
            self.reader.read(
                Source(local[image]), Source(local[clip]), options, on_server_key=not pasted, face=face
            )
            for (image, clip), options in zip(order.pairs, order.each, strict=True)
        )
        problems += _run_problems(names, readings, order.varies)
        reading = BatchReading(
            order.varies,
            names,
            readings,
            urls=tuple((_url(image), _url(clip)) for image, clip in order.pairs),
            problems=tuple(dict.fromkeys(problems)),
            face=readings[0].face,
        )
        if not pasted:
            reading = self._within_daily_budget(reading)
            if self.settings.visitors_bring_own_key:
                reading = reading.with_problem(OwnKeyRequiredError().message)
        return reading

    def _local_files(self, order: Order) -> tuple[dict[Source, str | None], list[str]]:
        """Each input of the batch as a local file, once (the shared clip, or image, is fetched once
        however many runs use it); an input that can't be had is None, and its sentence names it."""
        local: dict[Source, str | None] = {}
        problems: list[str] = []
        for image, clip in order.pairs:
            for source, kind in ((image, "image"), (clip, "video")):
                if source in local:
                    continue
                try:
                    local[source] = self.reader.pick(source, kind) if source else None
                except StudioError as exc:
                    local[source] = None
                    problems.append(_named(source.name, exc.message))
        return local, problems

    def _pick_face(self, order: Order) -> tuple[FaceSources, str | None]:
        """The face as local files, fetched once for every run (the order has refused a face its model
        or options can't take)."""
        if not order.face:
            return FaceSources(), None
        try:
            picked = self.reader.pick_face(order.face)
        except StudioError as exc:
            return FaceSources(), exc.message
        return FaceSources.of_files(picked), None

    def _within_daily_budget(self, reading: BatchReading) -> BatchReading:
        """Said before Generate, as the reservation will refuse it: the batch's estimate past what is
        left of the server's daily budget."""
        budget, cost = self.settings.daily_budget, reading.cost
        if budget is None or cost is None:
            return reading
        spent = self.history.reads.server_spend_since(time.time() - 86400)
        if spent + cost <= budget + 1e-9:
            return reading
        return reading.with_problem(BudgetError.daily(budget, spent, cost, runs=reading.size).message)


def _run_problems(names: tuple[str, ...], readings: tuple[Reading, ...], varies: str) -> list[str]:
    """Each run's problems: its own input's (and any other not shared by every run) named after that
    input; one every run has, once."""
    problems: list[str] = []
    for name, reading in zip(names, readings, strict=True):
        own = {"image": reading.image_problem, "video": reading.video_problem}.get(varies)
        for problem in reading.problems:
            shared = problem != own and all(problem in other.problems for other in readings)
            problems.append(problem if shared else _named(name, problem))
    return problems


def _named(name: str, problem: str) -> str:
    """`problem`, saying which input it is about (unless it does already)."""
    return problem if not name or problem.startswith(name) else f"{name}: {problem}"


def _url(source: Source) -> str | None:
    """The URL an input came from, when no file was given for it (fal may fetch it there itself)."""
    return None if source.file else source.url
