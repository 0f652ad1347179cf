"""The people and pose check: the decision rules on synthetic landmarks, then the real models on the
astronaut photo and clips made from it, the preview, the cache, skipping, and no download."""

from __future__ import annotations

import hashlib
import socket
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from motion_studio import people
from motion_studio.catalog import FAMILIES
from motion_studio.people import (
    ClipFrameReading,
    ClipReading,
    Detector,
    Framing,
    Landmark,
    PeopleChecker,
    PoseReading,
    Skipped,
    WarningCode,
    advise,
    detect,
    frames,
    rules,
)
from motion_studio.people.cache import LruCache, file_digest
from motion_studio.people.preview import GAP, PREVIEW_HEIGHT

from . import people_media as pm

# ---------------------------------------------------------------- synthetic landmarks and readings

HIDDEN = Landmark(0.5, 0.5, 0.0)


def pose(seen: dict[int, tuple[float, float]], *, visibility: float = 0.95) -> tuple[Landmark, ...]:
    """33 landmarks: those in `seen` at (x, y) and visible, the others hidden in the middle."""
    return tuple(Landmark(*seen[i], visibility) if i in seen else HIDDEN for i in range(33))


FACE = {i: (0.5, 0.12 + 0.005 * i) for i in range(11)}
UPPER = {
    **FACE,
    11: (0.4, 0.3),
    12: (0.6, 0.3),
    13: (0.35, 0.45),
    14: (0.65, 0.45),
    23: (0.45, 0.6),
    24: (0.55, 0.6),
}
FULL = {
    **UPPER,
    25: (0.45, 0.75),
    26: (0.55, 0.75),
    **{i: (0.45 if i % 2 else 0.55, 0.9) for i in (27, 28, 29, 30, 31, 32)},
}


def reading(
    framing: Framing = Framing.UPPER_BODY, *, people: int = 1, share: float | None = 0.3
) -> PoseReading:
    if people == 0:
        return PoseReading(0, Framing.UNKNOWN, None, 0)
    return PoseReading(people, framing, share, people)


def clip_of(*frames_: PoseReading, duration: float = 12.0) -> ClipReading:
    step = duration / len(frames_)
    return rules.summarise_clip(
        duration, [ClipFrameReading((i + 0.5) * step, r) for i, r in enumerate(frames_)]
    )


# ---------------------------------------------------------------- rules: framing and counting


@pytest.mark.parametrize(
    ("seen", "framing"),
    [
        (FULL, Framing.FULL_BODY),
        (UPPER, Framing.UPPER_BODY),
        ({**FACE, 11: (0.4, 0.8)}, Framing.UPPER_BODY),  # one shoulder is enough
        ({**FACE, 23: (0.45, 0.9)}, Framing.UPPER_BODY),  # hips without shoulders (arms up, say)
        (FACE, Framing.HEAD_ONLY),
        ({}, Framing.UNKNOWN),
        # knees but no foot: a three-quarter shot
        ({**UPPER, 25: (0.45, 0.8), 26: (0.55, 0.8)}, Framing.UPPER_BODY),
        # feet without the head and shoulders are not a person's full body
        ({i: FULL[i] for i in range(23, 33)}, Framing.UPPER_BODY),
    ],
)
def test_framing_from_visible_landmarks(seen: dict[int, tuple[float, float]], framing: Framing) -> None:
    assert rules.framing_of(pose(seen)) is framing


def test_landmarks_beyond_the_edge_are_not_seen() -> None:
    """The model places legs below a portrait's bottom edge, sometimes as 'visible'."""
    legs_below = {**UPPER, 25: (0.45, 1.2), 26: (0.55, 1.2), 27: (0.45, 1.6), 28: (0.55, 1.6)}
    assert rules.framing_of(pose(legs_below)) is Framing.UPPER_BODY
    shoulders_below = {**FACE, 11: (0.4, 1.1), 12: (0.6, 1.05)}
    assert rules.framing_of(pose(shoulders_below)) is Framing.HEAD_ONLY
    assert not rules.is_seen(Landmark(-0.01, 0.5, 1.0))


def test_unsure_landmarks_are_not_seen() -> None:
    assert rules.framing_of(pose(FULL, visibility=0.3)) is Framing.UNKNOWN
    assert rules.framing_of(pose(FULL, visibility=0.5)) is Framing.FULL_BODY


def test_legs_folded_up_into_the_picture_are_not_a_full_body() -> None:
    """What the model draws below a waist-up portrait on a plain background: knees level with the
    hips, feet just below, all 'visible'."""
    folded = {
        **UPPER,
        25: (0.45, 0.61),
        26: (0.55, 0.6),
        **{i: (0.45 if i % 2 else 0.55, 0.66) for i in (27, 28, 29, 30, 31, 32)},
    }
    assert rules.framing_of(pose(folded)) is Framing.UPPER_BODY
    one_leg_down = {**folded, 25: FULL[25], 27: FULL[27]}
    assert rules.framing_of(pose(one_leg_down)) is Framing.FULL_BODY


def test_too_few_landmarks_give_unknown() -> None:
    assert rules.framing_of(pose(FULL)[:20]) is Framing.UNKNOWN


@pytest.mark.parametrize(
    ("pose_found", "faces", "count"), [(False, 0, 0), (True, 0, 1), (True, 1, 1), (False, 1, 1), (True, 3, 3)]
)
def test_people_are_the_faces_or_the_pose(pose_found: bool, faces: int, count: int) -> None:
    assert rules.count_people(pose_found, faces) == count


def test_reading_from_model_output() -> None:
    found = rules.reading_from(pose(UPPER), faces=2, share=0.25, width=640, height=480)
    assert (found.people, found.framing, found.share, found.faces) == (2, Framing.UPPER_BODY, 0.25, 2)
    assert len(found.landmarks) == 33 and found.has_person
    face_only = rules.reading_from((), faces=1, share=0.9)
    assert (face_only.people, face_only.framing, face_only.share) == (1, Framing.UNKNOWN, None)
    nobody = rules.reading_from((), faces=0, share=None)
    assert not nobody.has_person and nobody.summary() == "no person found"


def test_mask_share() -> None:
    mask = np.zeros((10, 10), np.float32)
    mask[:5, :2] = 0.9
    mask[5:, :2] = 0.4  # unsure pixels are not the person's
    assert rules.mask_share(mask) == pytest.approx(0.10)
    assert rules.mask_share(None) is None


def test_majority_framing_prefers_the_wider_on_a_tie() -> None:
    f = Framing
    assert rules.majority_framing([f.UPPER_BODY, f.UPPER_BODY, f.FULL_BODY]) is f.UPPER_BODY
    assert rules.majority_framing([f.UPPER_BODY, f.FULL_BODY]) is f.FULL_BODY
    assert rules.majority_framing([f.UNKNOWN, f.UNKNOWN, f.HEAD_ONLY]) is f.HEAD_ONLY
    assert rules.majority_framing([f.UNKNOWN]) is f.UNKNOWN
    assert rules.majority_framing([]) is f.UNKNOWN


def test_clip_summary_counts_frames() -> None:
    clip = clip_of(
        reading(people=0),
        reading(Framing.FULL_BODY, people=2),
        reading(Framing.FULL_BODY),
        reading(Framing.UPPER_BODY),
    )
    assert clip.sampled == 4 and clip.has_person
    assert (clip.framing, clip.frames_without_person, clip.frames_with_several_people) == (
        Framing.FULL_BODY,
        1,
        1,
    )
    assert [f.time for f in clip.frames] == [1.5, 4.5, 7.5, 10.5]
    data = clip.as_dict()
    assert (
        data["framing"] == "full body" and len(data["frames"]) == 4 and "landmarks" not in data["frames"][0]
    )


# ---------------------------------------------------------------- rules: the warnings


def codes(image: PoseReading | None, clip: ClipReading | None) -> list[WarningCode]:
    return [w.code for w in advise(image, clip)]


def test_a_good_pair_has_no_warning() -> None:
    assert codes(reading(Framing.UPPER_BODY), clip_of(*[reading(Framing.UPPER_BODY)] * 6)) == []
    assert codes(reading(Framing.FULL_BODY), clip_of(*[reading(Framing.FULL_BODY)] * 6)) == []
    assert codes(None, None) == []


def test_no_person_says_so_and_nothing_else() -> None:
    nobody = clip_of(*[reading(people=0)] * 6)
    assert codes(reading(people=0), nobody) == [WarningCode.NO_PERSON_IMAGE, WarningCode.NO_PERSON_CLIP]
    assert codes(reading(people=0), None) == [WarningCode.NO_PERSON_IMAGE]


def test_several_people_in_the_image() -> None:
    [warning] = advise(reading(people=2), None)
    assert warning.code is WarningCode.SEVERAL_PEOPLE_IMAGE
    assert "Kling animates the largest one" in warning.message and warning.subject == "image"
    assert "or choose DreamActor, which takes several characters" in warning.message


def test_the_advice_names_the_model_that_fits() -> None:
    """Several people: Kling follows the largest, DreamActor takes several; no person (a non-human
    character, say): DreamActor handles those. The names are the catalogue's families'."""
    assert (FAMILIES["kling"].short, FAMILIES["dreamactor"].short) == (rules.KLING, rules.SEVERAL_CHARACTERS)
    several = clip_of(*[reading(people=2)] * 6)
    [in_clip] = advise(None, several)
    assert in_clip.code is WarningCode.SEVERAL_PEOPLE_CLIP
    assert "Kling follows the largest one" in in_clip.message
    assert in_clip.message.endswith("or choose DreamActor, which takes several characters.")
    nobody = {w.code: w.message for w in advise(reading(people=0), clip_of(reading(people=0)))}
    assert "choose DreamActor, which handles non-human characters" in nobody[WarningCode.NO_PERSON_IMAGE]
    assert "DreamActor" not in nobody[WarningCode.NO_PERSON_CLIP]  # the motion is still read from a person


def test_person_under_five_percent() -> None:
    [warning] = advise(reading(share=0.042), None)
    assert warning.code is WarningCode.PERSON_TOO_SMALL and "4.2 %" in warning.message
    assert codes(reading(share=0.05), None) == []
    assert codes(reading(share=None), None) == []  # a face without a pose: no share to judge


def test_head_only_image() -> None:
    assert codes(reading(Framing.HEAD_ONLY), None) == [WarningCode.HEAD_ONLY_IMAGE]


def test_half_body_image_with_full_body_motion_and_the_reverse() -> None:
    full_clip = clip_of(*[reading(Framing.FULL_BODY)] * 4, reading(Framing.UPPER_BODY))
    upper_clip = clip_of(*[reading(Framing.UPPER_BODY)] * 4, reading(Framing.FULL_BODY))
    assert codes(reading(Framing.UPPER_BODY), full_clip) == [WarningCode.HALF_BODY_IMAGE_FULL_BODY_MOTION]
    assert codes(reading(Framing.FULL_BODY), upper_clip) == [WarningCode.FULL_BODY_IMAGE_HALF_BODY_MOTION]
    # an unknown framing on either side is no evidence of a mismatch
    assert codes(reading(Framing.UNKNOWN), full_clip) == []
    assert advise(reading(Framing.UPPER_BODY), full_clip)[0].subject == "both"


def test_person_leaving_the_clip_names_the_times() -> None:
    clip = clip_of(*[reading()] * 4, reading(people=0), reading(people=0))
    [warning] = advise(None, clip)
    assert warning.code is WarningCode.PERSON_LEAVES_CLIP
    assert "2 of 6" in warning.message and "9.0 s and 11.0 s" in warning.message


def test_several_people_in_a_third_of_the_clip() -> None:
    one_stray = clip_of(reading(people=2), *[reading()] * 5)
    assert codes(None, one_stray) == []
    two = clip_of(reading(people=2), reading(people=3), *[reading()] * 4)
    assert codes(None, two) == [WarningCode.SEVERAL_PEOPLE_CLIP]
    assert codes(None, clip_of(reading(people=2))) == [WarningCode.SEVERAL_PEOPLE_CLIP]


def test_every_warning_is_one_sentence_with_a_fix() -> None:
    cases = [
        advise(reading(people=0), clip_of(reading(people=0))),
        advise(reading(people=3, share=0.01), clip_of(reading(people=2), reading(people=0))),
        advise(reading(Framing.HEAD_ONLY), None),
        advise(reading(Framing.UPPER_BODY), clip_of(reading(Framing.FULL_BODY))),
        advise(reading(Framing.FULL_BODY), clip_of(reading(Framing.UPPER_BODY))),
    ]
    seen = {w.code: w for case in cases for w in case}
    assert set(seen) == set(WarningCode)
    for warning in seen.values():
        assert warning.message.endswith(".") and ". " not in warning.message, warning.message
        assert ";" in warning.message, warning.message  # what is wrong; what to do
        assert warning.as_dict()["code"] == warning.code.value


# ---------------------------------------------------------------- frames and cache (no models)


def test_sample_times_are_the_middles_of_equal_slices() -> None:
    assert frames.sample_times(12.0, 6) == (1.0, 3.0, 5.0, 7.0, 9.0, 11.0)
    assert frames.sample_times(5.0, 1) == (2.5,)
    assert len(frames.sample_times(30.0, 500)) == frames.MAX_CLIP_FRAMES
    assert frames.sample_times(0.0, 6) == (0.0,)


def test_fit_size_scales_down_to_even_sides() -> None:
    assert frames.fit_size(1080, 1920, 640) == (360, 640)
    assert frames.fit_size(1921, 1081, 640) == (640, 360)
    assert frames.fit_size(320, 240, 640) == (320, 240)


def test_lru_cache_is_bounded() -> None:
    cache: LruCache[int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # now the most recent
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (1, None, 3, 2)


def test_digest_is_of_the_content(tmp_path: Path) -> None:
    one, two, other = tmp_path / "one.bin", tmp_path / "two.bin", tmp_path / "other.bin"
    one.write_bytes(b"x" * 3_000_000)
    two.write_bytes(b"x" * 3_000_000)
    other.write_bytes(b"x" * 2_999_999 + b"y")
    assert file_digest(one) == file_digest(two) != file_digest(other)


# ---------------------------------------------------------------- the real models


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return pm.standard_media(tmp_path_factory.mktemp("people"))


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector()


@pytest.fixture
def checker(detector: Detector) -> PeopleChecker:
    """A checker with an empty cache, sharing the module's loaded models."""
    return PeopleChecker(detector=detector)


def image_reading(checker: PeopleChecker, path: Path) -> PoseReading:
    result = checker.check_image(path)
    assert isinstance(result, PoseReading), result
    return result


def clip_reading(checker: PeopleChecker, path: Path) -> ClipReading:
    result = checker.check_clip(path)
    assert isinstance(result, ClipReading), result
    return result


def test_astronaut_is_one_person_upper_body(checker: PeopleChecker, media: dict[str, Path]) -> None:
    found = image_reading(checker, media["astronaut"])
    assert (found.people, found.faces, found.framing) == (1, 1, Framing.UPPER_BODY)
    assert found.share is not None and 0.25 < found.share < 0.7
    assert len(found.landmarks) == 33
    assert advise(found, None) == ()


@pytest.mark.parametrize("name", ["coffee", "gradient"])
def test_no_person_in_a_landscape_or_a_blank(
    checker: PeopleChecker, media: dict[str, Path], name: str
) -> None:
    found = image_reading(checker, media[name])
    assert not found.has_person and found.faces == 0 and found.landmarks == ()
    assert codes(found, None) == [WarningCode.NO_PERSON_IMAGE]


def test_two_astronauts_are_two_people(checker: PeopleChecker, media: dict[str, Path]) -> None:
    found = image_reading(checker, media["two"])
    assert (found.people, found.faces) == (2, 2)
    assert WarningCode.SEVERAL_PEOPLE_IMAGE in codes(found, None)


def test_a_small_person_is_under_five_percent(checker: PeopleChecker, media: dict[str, Path]) -> None:
    found = image_reading(checker, media["small"])
    assert found.has_person and found.share is not None and found.share < 0.05
    assert found.framing is Framing.UPPER_BODY  # not the legs the model folds into the canvas
    assert codes(found, None) == [WarningCode.PERSON_TOO_SMALL]


@pytest.mark.parametrize("motion", ["pan", "zoom"])
def test_clips_of_the_astronaut_are_upper_body(
    checker: PeopleChecker, media: dict[str, Path], motion: str
) -> None:
    clip = clip_reading(checker, media[motion])
    assert clip.sampled == people.DEFAULT_CLIP_FRAMES
    assert clip.framing is Framing.UPPER_BODY
    assert sum(f.reading.framing is Framing.UPPER_BODY for f in clip.frames) > clip.sampled / 2
    assert (clip.frames_without_person, clip.frames_with_several_people) == (0, 0)
    times = [f.time for f in clip.frames]
    assert times == sorted(times) and len(set(times)) == len(times) and times[-1] < clip.duration
    report = checker.check(media["astronaut"], media[motion])
    assert report.warnings == () and report.skipped == ()


def test_a_phone_clip_and_photo_are_read_upright(checker: PeopleChecker, tmp_path: Path) -> None:
    """Phones store portrait clips sideways with a rotation flag, and photos with an EXIF one."""
    flagged = pm.flagged_phone_clip(tmp_path)
    upright = tmp_path / "phone.mp4"
    sampled = frames.read_clip(flagged, 2)
    assert sampled.frames[0].rgb.shape == (320, 180, 3)  # stored 320×180, shown 180×320
    assert np.abs(sampled.frames[0].rgb.astype(int) - frames.read_clip(upright, 2).frames[0].rgb).mean() < 8
    clip = clip_reading(checker, flagged)
    assert clip.frames_without_person == 0 and clip.framing is Framing.UPPER_BODY

    # upside down, the face detector would find no face
    found = image_reading(checker, pm.exif_rotated_photo(tmp_path / "exif.jpg"))
    assert (found.people, found.faces, found.framing) == (1, 1, Framing.UPPER_BODY)


def test_a_person_leaving_the_clip(checker: PeopleChecker, media: dict[str, Path]) -> None:
    clip = clip_reading(checker, media["leave"])
    assert 1 <= clip.frames_without_person < clip.sampled
    assert all(f.reading.has_person for f in clip.frames if f.time < clip.duration / 2)
    assert codes(None, clip) == [WarningCode.PERSON_LEAVES_CLIP]


def test_clip_frames_are_evenly_spread_with_few_keyframes(media: dict[str, Path]) -> None:
    """One keyframe in the whole clip: all but the first time are decoded accurately."""
    sampled = frames.read_clip(media["pan"], 6, max_side=160)
    assert len(sampled.frames) == 6 and sampled.duration == pytest.approx(4.0, abs=0.1)
    wanted = frames.sample_times(sampled.duration, 6)
    for frame, t in zip(sampled.frames[1:], wanted[1:], strict=True):
        assert abs(frame.time - t) < 0.1
        assert frame.rgb.shape == (160, 160, 3)
    assert len({f.rgb.tobytes() for f in sampled.frames}) == 6


def test_pose_preview_is_the_image_and_a_clip_frame(
    checker: PeopleChecker, media: dict[str, Path], tmp_path: Path
) -> None:
    dest = checker.preview(media["astronaut"], media["pan"], tmp_path / "out" / "preview.png")
    assert dest == tmp_path / "out" / "preview.png"
    with Image.open(dest) as sheet:
        assert sheet.format == "PNG"
        # the 512×512 photo and the 320×320 clip, both shown 480 px high
        assert sheet.size == (2 * PREVIEW_HEIGHT + GAP, PREVIEW_HEIGHT)
        # the skeleton is drawn: the photo's side differs from a plain resized photo
        plain = pm.astronaut().resize((PREVIEW_HEIGHT, PREVIEW_HEIGHT))
        drawn = sheet.crop((0, 0, PREVIEW_HEIGHT, PREVIEW_HEIGHT))
        diff = np.abs(np.asarray(drawn, np.int16) - np.asarray(plain, np.int16)).max(axis=2)
        assert (diff > 100).sum() > 500
    only_image = checker.preview(media["coffee"], None, tmp_path / "coffee.png")
    assert isinstance(only_image, Path)
    with Image.open(only_image) as sheet:
        assert sheet.size == (600 * PREVIEW_HEIGHT // 400, PREVIEW_HEIGHT)
    assert isinstance(checker.preview(None, None, tmp_path / "none.png"), Skipped)
    # an input that cannot be checked is left out of the preview
    partial = checker.preview(media["astronaut"], media["coffee"], tmp_path / "partial.png")
    assert isinstance(partial, Path)
    with Image.open(partial) as sheet:
        assert sheet.size == (PREVIEW_HEIGHT, PREVIEW_HEIGHT)
    neither = checker.preview(media["pan"], media["coffee"], tmp_path / "neither.png")
    assert isinstance(neither, Skipped) and "video, not an image" in neither.reason


# ---------------------------------------------------------------- cache, threads, skipping, offline


class CountingDetector(Detector):
    def __init__(self, inner: Detector) -> None:
        super().__init__()
        self.inner = inner
        self.calls = 0

    def read(self, rgb: np.ndarray) -> PoseReading:
        self.calls += 1
        return self.inner.read(rgb)


def test_results_are_cached_by_content(detector: Detector, media: dict[str, Path], tmp_path: Path) -> None:
    counting = CountingDetector(detector)
    checker = PeopleChecker(detector=counting)
    first = checker.check_image(media["astronaut"])
    renamed = tmp_path / "same-photo-other-name.jpg"
    renamed.write_bytes(media["astronaut"].read_bytes())
    assert checker.check_image(renamed) is first
    assert counting.calls == 1
    clip = checker.check_clip(media["pan"])
    assert checker.check_clip(media["pan"]) is clip and counting.calls == 1 + 6
    assert checker.check_clip(media["pan"], frames=3) is not clip  # another sampling, another reading


def test_one_detector_serves_many_threads(detector: Detector, media: dict[str, Path]) -> None:
    names = ["astronaut", "two", "coffee", "astronaut", "two", "coffee"]
    expected = {n: image_reading(PeopleChecker(detector=detector), media[n]) for n in set(names)}
    results: dict[int, object] = {}

    def work(i: int, name: str) -> None:
        results[i] = PeopleChecker(detector=detector).check_image(media[name])

    threads = [threading.Thread(target=work, args=(i, n)) for i, n in enumerate(names)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[i] for i in range(len(names))] == [expected[n] for n in names]


def test_odd_files_are_skipped_with_a_reason(
    checker: PeopleChecker, media: dict[str, Path], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    for result in (
        checker.check_image(broken),
        checker.check_image(tmp_path / "missing.jpg"),
        checker.check_image(media["pan"]),
        checker.check_clip(media["astronaut"]),
        checker.check_clip(broken),
    ):
        assert isinstance(result, Skipped) and result.reason.endswith("."), result
    report = checker.check(broken, media["pan"])
    assert report.image is None and report.clip is not None
    assert [s.subject for s in report.skipped] == ["image"]
    assert report.as_dict()["skipped"][0]["subject"] == "image"


def test_missing_mediapipe_skips_the_check(monkeypatch: pytest.MonkeyPatch, media: dict[str, Path]) -> None:
    def no_mediapipe() -> tuple[object, object]:
        raise ImportError("No module named 'mediapipe'")

    monkeypatch.setattr(detect, "_create", no_mediapipe)
    checker = PeopleChecker(detector=Detector())
    result = checker.check_image(media["astronaut"])
    assert isinstance(result, Skipped) and "not available" in result.reason and "mediapipe" in result.reason
    report = checker.check(media["astronaut"], media["pan"])
    assert report.warnings == () and len(report.skipped) == 2
    assert isinstance(checker.preview(media["astronaut"], None, Path("unused.png")), Skipped)


def test_missing_model_files_are_skipped_not_downloaded(
    monkeypatch: pytest.MonkeyPatch, media: dict[str, Path], tmp_path: Path
) -> None:
    (tmp_path / detect.FACE_MODEL).write_bytes((detect.MODEL_DIR / detect.FACE_MODEL).read_bytes())
    monkeypatch.setattr(detect, "MODEL_DIR", tmp_path)  # a checkout without the pose bundle
    result = PeopleChecker(detector=Detector()).check_image(media["astronaut"])
    assert isinstance(result, Skipped) and detect.POSE_MODEL in result.reason
    assert detect.FACE_MODEL not in result.reason and "make_people_models.py" in result.reason


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every way out to the network raises (and is recorded): sockets and urllib."""
    attempts: list[str] = []

    def refuse(what: str):  # type: ignore[no-untyped-def]
        def blocked(*args: object, **kwargs: object) -> None:
            attempts.append(what)
            raise OSError(f"network blocked in test: {what}")

        return blocked

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(socket, "create_connection", refuse("socket.create_connection"))
    monkeypatch.setattr(urllib.request, "urlopen", refuse("urllib.request.urlopen"))
    yield attempts


def test_models_come_from_the_repository_and_nothing_is_downloaded(
    offline: list[str], media: dict[str, Path]
) -> None:
    assert Path(people.__file__).resolve().parent / "models" == detect.MODEL_DIR
    assert people.missing_models() == ()
    fresh = PeopleChecker(detector=Detector())  # models loaded here, with the network blocked
    report = fresh.check(media["astronaut"], media["zoom"])
    assert report.skipped == () and report.image is not None and report.image.has_person
    assert report.clip is not None and report.clip.has_person
    assert offline == []


def test_the_model_files_are_those_provenance_names() -> None:
    """The committed files are byte for byte what scripts/make_people_models.py makes and
    models/PROVENANCE.md records (so a replaced file cannot pass unnoticed)."""
    provenance = (detect.MODEL_DIR / "PROVENANCE.md").read_text(encoding="utf8")
    assert (detect.MODEL_DIR / "LICENSE").read_text(encoding="utf8").lstrip().startswith("Apache License")
    for name in detect.MODEL_FILES:
        digest = hashlib.sha256((detect.MODEL_DIR / name).read_bytes()).hexdigest()
        row = next(line for line in provenance.splitlines() if line.startswith(f"| `{name}`"))
        assert row.rstrip().endswith(f"`{digest}` |"), name
