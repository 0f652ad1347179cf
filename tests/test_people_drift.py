"""The people check reads the test photos and clips as it always has, so a later mediapipe (or a
rebuilt model file) cannot change what users are told without a test saying so.

The expected readings were recorded with MediaPipe's legacy solutions (`mediapipe==0.10.21`'s
`solutions.pose` and `solutions.face_detection`, full-range), which the Tasks API now reproduces from
the same model files: counts, framings and warnings exactly, the person's share within a hundredth.
Also here: MediaPipe's native log lines stay out of a terminal that asked for quiet.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from motion_studio.people import (
    ClipReading,
    Detector,
    PeopleChecker,
    PoseReading,
    WarningCode,
    advise,
)

from . import people_media as pm

ROOT = Path(__file__).resolve().parents[1]
SHARE_TOLERANCE = 0.01  # the legacy and the Tasks masks agree to 1e-4; the clips' encoder may vary
LANDMARK_TOLERANCE = 0.015  # about 8 px on the 512 px photo; measured: under 6 px
W = WarningCode

# photo: (people, faces, framing, share, warnings)
IMAGES = {
    "astronaut": (1, 1, "upper body", 0.4252, []),
    "two": (2, 2, "upper body", 0.21, [W.SEVERAL_PEOPLE_IMAGE]),
    "small": (1, 0, "upper body", 0.0281, [W.PERSON_TOO_SMALL]),
    "coffee": (0, 0, "unknown", None, [W.NO_PERSON_IMAGE]),
    "gradient": (0, 0, "unknown", None, [W.NO_PERSON_IMAGE]),
    "exif": (1, 1, "upper body", 0.4287, []),
}
UPPER = "upper body"
Frame = tuple[float, int, int, str, float | None]
# clip: frames as (time, people, faces, framing, share), then the warnings
CLIPS: dict[str, tuple[list[Frame], list[WarningCode]]] = {
    "pan": (
        [(0.0, 1, 1, UPPER, 0.4276), (1.0, 1, 1, UPPER, 0.4344), (1.75, 1, 1, UPPER, 0.4213),
         (2.333, 1, 1, UPPER, 0.4199), (3.0, 1, 1, UPPER, 0.392), (3.75, 1, 1, UPPER, 0.3362)],
        [],
    ),
    "zoom": (
        [(0.0, 1, 1, UPPER, 0.4296), (1.0, 1, 1, UPPER, 0.468), (1.75, 1, 1, UPPER, 0.4948),
         (2.0, 1, 1, UPPER, 0.5273), (3.0, 1, 1, UPPER, 0.5375), (3.75, 1, 1, UPPER, 0.5575)],
        [],
    ),
    "leave": (
        [(0.0, 1, 1, UPPER, 0.4285), (1.0, 1, 1, UPPER, 0.4281), (1.75, 1, 1, UPPER, 0.4278),
         (2.333, 1, 1, UPPER, 0.2452), (3.0, 0, 0, "unknown", None), (3.75, 0, 0, "unknown", None)],
        [W.PERSON_LEAVES_CLIP],
    ),
    "flagged": (
        [(0.0, 1, 1, UPPER, 0.2515), (0.5, 1, 1, UPPER, 0.2435), (0.833, 1, 1, UPPER, 0.256),
         (1.25, 1, 1, UPPER, 0.2444), (1.5, 1, 1, UPPER, 0.2214), (1.833, 1, 1, UPPER, 0.1939)],
        [],
    ),
}  # fmt: skip
PAIRS = {
    ("astronaut", "pan"): [],
    ("astronaut", "zoom"): [],
    ("astronaut", "leave"): [W.PERSON_LEAVES_CLIP],
    ("two", "pan"): [W.SEVERAL_PEOPLE_IMAGE],
    ("small", "zoom"): [W.PERSON_TOO_SMALL],
    ("coffee", "leave"): [W.NO_PERSON_IMAGE, W.PERSON_LEAVES_CLIP],
}
# The astronaut's nose, eyes and shoulders (x, y, visibility), as the legacy pose model placed them.
ASTRONAUT_LANDMARKS = {
    0: (0.4338, 0.2669, 0.9993),
    2: (0.481, 0.2334, 0.9988),
    5: (0.3995, 0.2189, 0.9991),
    11: (0.5942, 0.5013, 0.9984),
    12: (0.2181, 0.4562, 0.9989),
}


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("drift")
    found = pm.standard_media(folder)
    found["flagged"] = pm.flagged_phone_clip(folder)
    found["exif"] = pm.exif_rotated_photo(folder / "exif.jpg")
    return found


@pytest.fixture(scope="module")
def checker() -> PeopleChecker:
    return PeopleChecker(detector=Detector())


def assert_reads(found: PoseReading, people: int, faces: int, framing: str, share: float | None) -> None:
    assert (found.people, found.faces, str(found.framing)) == (people, faces, framing)
    if share is None:
        assert found.share is None
    else:
        assert found.share == pytest.approx(share, abs=SHARE_TOLERANCE)


@pytest.mark.parametrize("name", IMAGES)
def test_photos_read_as_before(checker: PeopleChecker, media: dict[str, Path], name: str) -> None:
    people, faces, framing, share, warnings = IMAGES[name]
    found = checker.check_image(media[name])
    assert isinstance(found, PoseReading), found
    assert_reads(found, people, faces, framing, share)
    assert [w.code for w in advise(found, None)] == warnings


@pytest.mark.parametrize("name", CLIPS)
def test_clips_read_as_before(checker: PeopleChecker, media: dict[str, Path], name: str) -> None:
    expected, warnings = CLIPS[name]
    clip = checker.check_clip(media[name])
    assert isinstance(clip, ClipReading), clip
    assert len(clip.frames) == len(expected)
    for frame, (time, people, faces, framing, share) in zip(clip.frames, expected, strict=True):
        assert frame.time == pytest.approx(time, abs=0.05)
        assert_reads(frame.reading, people, faces, framing, share)
    assert [w.code for w in advise(None, clip)] == warnings


@pytest.mark.parametrize(("image", "clip"), PAIRS)
def test_pairs_warn_as_before(checker: PeopleChecker, media: dict[str, Path], image: str, clip: str) -> None:
    report = checker.check(media[image], media[clip])
    assert report.skipped == ()
    assert list(report.codes) == PAIRS[(image, clip)]


def test_the_skeleton_is_where_it_was(checker: PeopleChecker, media: dict[str, Path]) -> None:
    found = checker.check_image(media["astronaut"])
    assert isinstance(found, PoseReading) and len(found.landmarks) == 33
    for index, (x, y, visibility) in ASTRONAUT_LANDMARKS.items():
        point = found.landmarks[index]
        assert point.x == pytest.approx(x, abs=LANDMARK_TOLERANCE), index
        assert point.y == pytest.approx(y, abs=LANDMARK_TOLERANCE), index
        assert point.visibility == pytest.approx(visibility, abs=0.02), index


QUIET_CHECK = """
import sys
from pathlib import Path
from motion_studio.people import PeopleChecker
from motion_studio.people.detect import mute_native_logs
mute_native_logs()
checker = PeopleChecker()
for path in sys.argv[1:]:
    print(checker.check_image(path).summary())
"""


def test_native_log_lines_stay_out_of_a_quiet_terminal(media: dict[str, Path]) -> None:
    """Muted (as the command line does), loading the models, reading and exiting print nothing on
    stderr: no LiteRT or absl lines, and no traceback from the tasks' own clean-up at exit."""
    done = subprocess.run(
        [sys.executable, "-c", QUIET_CHECK, str(media["astronaut"]), str(media["coffee"])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "1 person · upper body · 43 % of the picture · 1 face",
        "no person found",
    ]
    assert done.stderr == ""
