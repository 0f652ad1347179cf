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
    def compare_and_batch(cls) -> BatchError:
        return cls(
            "A comparison runs one character image and one clip on several models: leave out the extra "
            "images and clips, or compare without them."
        )

    @classmethod
    def too_many(cls, given: int, limit: int, kind: str) -> BatchError:
        return cls(
            f"A batch takes at most {limit} {kind}s in all; {given} were given. Remove {given - limit}."
        )


class UrlError(InputError):
    """A URL input that can't be fetched: said before anything reaches fal."""

    @classmethod
    def unknown_host(cls, host: str) -> UrlError:
        return cls(f"The address {host[:80]!r} could not be found. Check the URL.")

    @classmethod
    def inside(cls) -> UrlError:
        return cls(
            "That URL points inside a private network, which this server never fetches. Use a public URL."
        )

    @classmethod
    def not_http(cls) -> UrlError:
        return cls("Only http(s) URLs are fetched.")

    @classmethod
    def malformed(cls) -> UrlError:
        return cls("That is not a URL that can be fetched. Use an http(s) link.")

    @classmethod
    def compressed(cls, kind: str) -> UrlError:
        return cls(f"The {kind} at that URL comes compressed; link to the file itself.")

    @classmethod
    def too_large(cls, kind: str, limit_mb: int) -> UrlError:
        return cls(f"The {kind} at that URL is larger than {limit_mb} MB.")

    @classmethod
    def too_slow(cls, kind: str) -> UrlError:
        return cls(f"The {kind} at that URL takes too long to download.")

    @classmethod
    def failed(cls, kind: str) -> UrlError:
        return cls(f"Could not download the {kind} from that URL. Check the address.")

    @classmethod
    def not_a_file_or_url(cls, kind: str) -> UrlError:
        return cls(f"Give the {kind} as an http(s) URL (or, from gradio_client, as handle_file(path)).")

    @classmethod
    def redirects(cls) -> UrlError:
        return cls("That URL redirects too many times.")


class MissingInputError(InputError):
    """An input the action needs was not given yet."""

    @classmethod
    def both(cls) -> MissingInputError:
        return cls("Add a character image and a reference clip first.")

    @classmethod
    def clip(cls) -> MissingInputError:
        return cls("Pick a clip first.")
