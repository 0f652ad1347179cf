"""The page's short notices that are not failures: what it says while a run starts or is cancelled, about
a deleted or vanished run, the side-by-side tab, a clip shown as a preview, the clip's sound put back
on a result, and the examples' prompts.

Kept out of `ui` (which only lays out and wires) and apart from `presenter.py`, whose sentences are
computed from a run or a reading: these are fixed, or nearly.
"""

from __future__ import annotations

STARTING = "⏳ Starting…"
CANCELLING = "⏹ Cancelling on fal…"
NOTHING_TO_CANCEL = "Nothing to cancel: no run of yours is going in this page."
RUN_DELETED = "Run deleted."
RUN_GONE = "This run no longer exists."
SIDE_BY_SIDE_OFFER = "Open this tab to put the reference and the result side by side in one video."
SIDE_BY_SIDE_MADE = "Reference on the left, result on the right: one video to share."
SIDE_BY_SIDE_WITH_PREVIEW = "Left to right: the reference, the 3-second preview this run followed, and the full run: one video to share."
CLIP_PREVIEWED = "🎞 Shown as an H.264 preview (your browser can't play the original); fal gets the original."
# Under the runs: what a file's link is (an unguessable address that opens for whoever holds it).
FILE_LINKS = (
    "🔗 A link to one of your files here (a result, your photo, your clip) opens for anyone who has it, "
    "signed in or not. Share a result by downloading the video, not by its link, and don't share the "
    "links to your photos; deleting a run withdraws its links."
)
EXAMPLE_FAL_PROMPT = "A woman dancing"
EXAMPLE_OFFLINE_PROMPT = "a cartoon character waving both arms"
# What a visitor who is not signed in with Hugging Face can do, by what the Space asks of them.
SIGN_IN_OR_PASTE = (
    "🤗 **Sign in with Hugging Face** (the button below) to use this Space's fal key, or paste your own "
    "fal key in the key box."
)
SIGN_IN_FIRST = (
    "🤗 **Sign in with Hugging Face** (the button below) to use this Space, with its fal key or your own."
)
SIGN_IN_OPTIONAL = (
    "🤗 You may **sign in with Hugging Face** (the button below): your runs and limits then follow your "
    "account to any browser or device. Without signing in, this browser keeps them."
)
SIGN_IN_OPTIONAL_OWN_KEYS = (
    "🤗 You may **sign in with Hugging Face** (the button below): your runs and limits then follow your "
    "account to any browser or device. Signing in is needed to use your own fal key here."
)
# The key's status for a signed-out visitor on a Space that lends its fal key only to signed-in ones.
KEY_FOR_SIGNED_IN_ONLY = (
    "🔑 **This Space lends its fal key only to visitors signed in with Hugging Face.** Sign in, or paste "
    "your own fal key below: it is used for this browser session only and never stored. Get one at "
    "https://fal.ai/dashboard/keys."
)
KEY_FOR_SIGNED_IN_ONLY_OWN_KEYS_TOO = (
    "🔑 **This Space lends its fal key only to visitors signed in with Hugging Face**, and asks for "
    "signing in also to use your own key: sign in, then use its key or paste yours below."
)


def preview_done(run_id: str) -> str:
    """After a preview on the command line: how to pay for the whole clip once it looks right."""
    return f"That was a preview. If it looks right, run the whole clip: python -m motion_studio full {run_id}"


def starting_batch(runs: int) -> str:
    return f"⏳ Starting a batch of {runs} runs…"


def trim_offer(seconds: float | None) -> str | None:
    """The Trim button's label when only the clip's length is wrong (None: no offer, the button hides)."""
    return f"✂ Use only the first {seconds:g} s" if seconds else None


# -- what the checks will do to an input before it goes to fal (notes, not refusals) ----------------


def image_converted(what: str) -> str:
    return f"The {what} will be converted to PNG before upload."


def image_flattened(mode: str) -> str:
    return f"The {mode} image will be flattened to RGB (transparency on white)."


EXIF_ROTATION = "The photo's EXIF rotation will be applied."


def image_reencoded(size_mb: float) -> str:
    return f"The {size_mb:.1f} MB image will be re-encoded as JPEG to fit fal's 10 MB limit."


def clip_repackaged(for_browsers: bool) -> str:
    why = " so browsers can show it" if for_browsers else ""
    return f"The MOV clip will be repackaged as MP4 (no re-encoding){why}."


def clip_converted(container: str, codec: str, size_mb: float | None, cap_mb: int) -> str:
    """`size_mb`: the clip's size when only the conversion brings it under fal's cap."""
    smaller = f", which should bring its {size_mb:.0f} MB under {cap_mb} MB" if size_mb is not None else ""
    return f"The {container} ({codec}) clip will be converted to MP4 (H.264) before upload{smaller}."


def face_named(reference: str) -> str:
    return f"The prompt doesn't name the face, so {reference} is added at its end."


def clip_sound(model: str, added: bool) -> str:
    """A run's card and timeline: the clip's sound, asked for, was put back here on `model`'s video,
    which came without it (`added`), or could not be, and the video was kept silent."""
    if added:
        return f"The clip's sound was put back on the result here: {model} returns video only."
    return (
        f"The clip's sound could not be put back on the result, so it is silent: {model} returns video only."
    )
