"""Errors about what the user gave (files, faces, batches): found by a local check, before anything is
uploaded or paid for."""

from __future__ import annotations

from .base import StudioError


class InputError(StudioError):
    """An input failed a local check; nothing was uploaded or paid for."""

    kind = "input"


class StrictRefusalError(InputError):
    """`generate --strict` stops on the people check's warnings, before anything leaves the machine."""

    def __init__(self) -> None:
        super().__init__(
            "--strict: not generating because of the people check's warnings above; "
            "nothing was uploaded or paid for."
        )


class ClipTooLongError(InputError):
    """Too long for the chosen orientation: the page offers to trim it, so it carries the numbers."""

    def __init__(self, message: str, duration: float, limit: float) -> None:
        super().__init__(message)
        self.duration = duration
        self.limit = limit


class FaceElementError(InputError):
    """A face to keep consistent that fal would refuse (or the model would ignore): said before
    anything is uploaded, so it never costs a thing."""

    @classmethod
    def model(cls, model: str, face_models: str) -> FaceElementError:
        return cls(
            f"The {model} model can't keep a face consistent: choose {face_models}, or remove the face images."
        )

    @classmethod
    def orientation(cls) -> FaceElementError:
        return cls(
            "Keeping the face consistent works only with orientation 'video': switch to 'video', or "
            "remove the face images."
        )

    @classmethod
    def too_many(cls, given: int, limit: int) -> FaceElementError:
        return cls(
            f"{given} more angles of the face were given; fal takes at most {limit} besides the frontal "
            "image. Remove some."
        )


class BatchError(InputError):
    """A batch that can't be made as asked (its shape, not its files): said before anything is read."""

    @classmethod
    def none_finished(cls, why: str | None) -> BatchError:
        return cls(f"No run of the batch finished: {why or 'they were cancelled.'}")

    @classmethod
    def both_kinds(cls) -> BatchError:
        return cls(
            "A batch varies either the character image or the reference clip, not both: keep only the "
            "extra images or only the extra clips."
        )

    @classmethod
    def too_many(cls, given: int, limit: int, kind: str) -> BatchError:
        return cls(
            f"A batch takes at most {limit} {kind}s in all; {given} were given. Remove {given - limit}."
        )
