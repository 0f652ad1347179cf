"""Errors about a file's content, found by reading it here (an image, a clip, a prompt, an option):
said before anything is uploaded or paid for."""

from __future__ import annotations

from .refused_inputs import InputError


class FileError(InputError):
    """A file that is not there, or holds nothing."""

    @classmethod
    def missing(cls, what: str, name: str) -> FileError:
        return cls(f"The {what} file {name} does not exist.")

    @classmethod
    def empty(cls, what: str, name: str) -> FileError:
        return cls(f"The {what} file {name} is empty. Pick another file.")


class ImageError(InputError):
    """A character (or face) image the model can't take as it is."""

    @classmethod
    def heic_unreadable(cls, name: str) -> ImageError:
        return cls(
            f"{name} is an iPhone HEIC photo, which this installation can't read; "
            "export it as JPG (or set the camera to 'Most Compatible') and try again."
        )

    @classmethod
    def is_video(cls, name: str) -> ImageError:
        return cls(f"{name} is a video, not an image. Pick a photo (JPG or PNG).")

    @classmethod
    def not_an_image(cls, name: str) -> ImageError:
        return cls(f"{name} is not an image the app can read. Use a JPG or PNG.")

    @classmethod
    def bomb(cls, name: str, limit_mp: int) -> ImageError:
        return cls(f"{name} is too large to open safely. Resize it below {limit_mp} MP.")

    @classmethod
    def unreadable(cls, name: str) -> ImageError:
        return cls(f"{name} could not be read. Use a JPG or PNG.")

    @classmethod
    def too_many_pixels(cls, width: int, height: int, limit_mp: int) -> ImageError:
        return cls(
            f"The image is {width}×{height} ({width * height / 1e6:.0f} MP); the limit is {limit_mp} MP. Resize it."
        )

    @classmethod
    def corrupt(cls, name: str) -> ImageError:
        return cls(f"{name} is truncated or corrupt. Export it again as JPG or PNG.")

    @classmethod
    def animated(cls, name: str) -> ImageError:
        return cls(f"{name} is animated. Pick a still image (JPG or PNG).")

    @classmethod
    def too_small(cls, width: int, height: int, min_side: int) -> ImageError:
        return cls(
            f"The image is {width}×{height}; each side must be at least {min_side} px. Use a larger image."
        )

    @classmethod
    def aspect(cls, width: int, height: int, ratio: float, max_aspect: float) -> ImageError:
        return cls(
            f"The image is {width}×{height} (aspect {ratio:.1f}:1); the model takes aspect ratios between "
            f"1:{max_aspect:g} and {max_aspect:g}:1. Crop it."
        )

    @classmethod
    def still_too_big(cls, name: str) -> ImageError:
        return cls(f"{name} is still over 10 MB after re-encoding. Resize it.")


class ClipError(InputError):
    """A reference clip the model can't take as it is."""

    @classmethod
    def is_image(cls, name: str) -> ClipError:
        return cls(f"{name} is an image, not a video. Pick a video clip (MP4 or MOV).")

    @classmethod
    def unreadable(cls, name: str) -> ClipError:
        return cls(
            f"{name} could not be read as a video; it may be corrupt or truncated. "
            "Re-export it as MP4 (H.264) and try again."
        )

    @classmethod
    def sound_only(cls, name: str) -> ClipError:
        return cls(f"{name} has sound but no picture. Pick a video clip.")

    @classmethod
    def playlist(cls, name: str) -> ClipError:
        return cls(f"{name} is a playlist or a list of files, not a video. Pick the clip itself.")

    @classmethod
    def too_short(cls, seconds: float, min_seconds: float) -> ClipError:
        return cls(
            f"The clip is {seconds:.1f} s; the model needs at least {min_seconds:g} s. Use a longer clip."
        )

    @classmethod
    def wrong_size(cls, width: int, height: int, min_side: int, max_side: int) -> ClipError:
        return cls(
            f"The clip is {width}×{height}; each side must be {min_side}–{max_side} px. "
            "Export it at a resolution between 480p and 4K."
        )

    @classmethod
    def too_big(cls, size_mb: float, limit_mb: int) -> ClipError:
        return cls(
            f"The clip is {size_mb:.0f} MB; fal accepts up to {limit_mb} MB. Export it at a lower bitrate or resolution."
        )

    @classmethod
    def not_converted(cls, name: str) -> ClipError:
        return cls(f"{name} could not be converted to MP4. Re-export it as MP4 (H.264).")

    @classmethod
    def still_too_big(cls, name: str, size_mb: float, limit_mb: int) -> ClipError:
        return cls(
            f"{name} is still {size_mb:.0f} MB as MP4; fal accepts up to {limit_mb} MB. Export it at a lower resolution."
        )

    @classmethod
    def not_trimmed(cls, name: str) -> ClipError:
        return cls(f"{name} could not be trimmed. Trim it in a video editor.")


class ViewError(InputError):
    """A video the studio makes of results (side by side, a batch's grid) could not be made."""

    @classmethod
    def side_by_side(cls) -> ViewError:
        return cls("The reference and the result could not be put side by side.")

    @classmethod
    def preview(cls, name: str) -> ViewError:
        return cls(f"{name} could not be converted for the preview.")

    @classmethod
    def grid(cls) -> ViewError:
        return cls("The batch's results could not be put in one grid.")


class ClipTooLongError(InputError):
    """Too long for the chosen orientation: the page offers to trim it, so it carries the numbers."""

    def __init__(self, orientation: str | None, duration: float, limit: float, video_limit: float) -> None:
        if orientation == "image":
            advice = f"Switch to 'video' ({video_limit:g} s) or trim it."
        else:
            advice = f"Trim it to {limit:g} s or less."
        given = f"with orientation '{orientation}' " if orientation else ""
        super().__init__(f"The clip is {duration:.1f} s; {given}the limit is {limit:g} s. {advice}")
        self.duration = duration
        self.limit = limit


class OptionError(InputError):
    """A caller's value for an option that its model can't take (wrong type, unknown choice, out of
    range, too long), or a prompt the face's name makes too long. `name` is the parameter as that
    caller names it (the API's, the flag, the page's label)."""

    @classmethod
    def invalid(cls, name: str, accepts: str, got: str) -> OptionError:
        return cls(f"{name} must be {accepts} (got {got}).")

    @classmethod
    def not_taken(cls, name: str, models: list[str], takers: str) -> OptionError:
        which = (
            f"the model '{models[0]}'"
            if len(models) == 1
            else "any of the models " + ", ".join(f"'{model}'" for model in models)
        )
        return cls(f"{name} is not an option of {which} (only of {takers}).")

    @classmethod
    def model_twice(cls, name: str, model: str) -> OptionError:
        return cls(f"{name} names '{model}' twice, or names the chosen model: name each other model once.")

    @classmethod
    def prompt_too_long(cls, length: int, limit: int) -> OptionError:
        return cls(f"The prompt is {length} characters; the limit is {limit}. Shorten it.")
