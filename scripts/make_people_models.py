"""Make the people check's model files (motion_studio/people/models) from the mediapipe 0.10.21 wheel.

mediapipe 0.10.21 is the last release whose wheel ships the legacy solutions' models (BlazePose and
BlazeFace, Apache-2.0). Newer releases run them through the Tasks API, which wants them as they are
for the face detector, and as a `.task` bundle (the pose detector and the landmark model zipped
together) for the pose landmarker. The landmark model lacks the TFLite metadata the Tasks API reads
its input normalisation from, so it is added here with mediapipe's own metadata writer: an RGB image
input scaled to 0..1 (mean 0, std 255), as the legacy graph fed it, and its five outputs.

Usage (from the repository root, in a virtualenv with requirements.txt installed)::

    python scripts/make_people_models.py              # pip downloads the wheel (no dependencies)
    python scripts/make_people_models.py --wheel W    # or uses a wheel at hand

The wheel's model files are checked against the digests below before anything is written, so the
output is the same on every machine; the digests of what is written are printed for PROVENANCE.md.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import subprocess
import sys
import tempfile
import types
import zipfile
from pathlib import Path

WHEEL_REQUIREMENT = "mediapipe==0.10.21"
OUT_DIR = Path(__file__).resolve().parent.parent / "motion_studio" / "people" / "models"
# Inside the wheel: the model files used, with their sha256 (the same in every platform's wheel).
SOURCES = {
    "pose_detection": (
        "mediapipe/modules/pose_detection/pose_detection.tflite",
        "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    ),
    "pose_landmark_full": (
        "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
        "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    ),
    "face_detection": (
        "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
        "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1",
    ),
}
POSE_TASK = "pose_landmarker_full.task"
FACE_MODEL = "face_detection_full_range_sparse.tflite"
# The landmark model's outputs, in its order, as the Tasks pose landmarker reads them.
LANDMARK_OUTPUTS = ("landmarks", "pose_presence", "segmentation_mask", "heatmap", "world_landmarks")
# The version the metadata says a parser needs: the oldest, as nothing newer is used here.
MIN_PARSER_VERSION = "1.0.0"


def download_wheel(dest: Path) -> Path:
    """The 0.10.21 wheel for Linux x86-64 / CPython 3.11 (its models are in every platform's wheel)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    cmd += ["--python-version", "3.11", "--platform", "manylinux_2_28_x86_64", "-d", str(dest)]
    subprocess.run([*cmd, WHEEL_REQUIREMENT], check=True)
    return next(dest.glob("mediapipe-0.10.21-*.whl"))


def read_sources(wheel: Path) -> dict[str, bytes]:
    """The model files out of the wheel, each checked against its known digest."""
    found: dict[str, bytes] = {}
    with zipfile.ZipFile(wheel) as archive:
        for key, (member, digest) in SOURCES.items():
            data = archive.read(member)
            actual = hashlib.sha256(data).hexdigest()
            if actual != digest:
                raise SystemExit(f"{member} in {wheel.name} has sha256 {actual}, expected {digest}")
            found[key] = data
    return found


def install_version_stand_in() -> None:
    """mediapipe 1.x's metadata writer imports a native module its wheel lacks, only to ask which
    metadata parser version the written metadata needs. A stand-in answers the oldest one; it lives
    in this script alone, never in the app."""
    name = "mediapipe.tasks.cc.metadata.python._pywrap_metadata_version"
    parts = name.split(".")
    for i in range(3, len(parts)):
        package = types.ModuleType(".".join(parts[:i]))
        package.__path__ = []
        sys.modules.setdefault(package.__name__, package)
    module = types.ModuleType(name)
    module.GetMinimumMetadataParserVersion = lambda _buffer: MIN_PARSER_VERSION  # type: ignore[attr-defined]
    sys.modules[name] = module


def with_metadata(landmark_model: bytes) -> bytes:
    """The landmark model with the metadata the Tasks API needs to feed it."""
    install_version_stand_in()
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

    writer = metadata_writer.MetadataWriter.create(bytearray(landmark_model))
    writer.add_general_info("pose_landmarks_detector", "BlazePose GHUM 3D landmarks (full)")
    writer.add_image_input(norm_mean=[0.0], norm_std=[255.0])
    for name in LANDMARK_OUTPUTS:
        writer.add_feature_output(name=name)
    model, _json = writer.populate()
    # Collected now: left for the interpreter's exit, its `__del__` fails on a torn-down `os`.
    del writer
    gc.collect()
    return bytes(model)


def pose_bundle(detector: bytes, landmarks: bytes, dest: Path) -> None:
    """The `.task` bundle the pose landmarker loads: both models, stored uncompressed and aligned
    (mediapipe's own zip writer), with a fixed date so the bundle is the same byte for byte."""
    from mediapipe.tasks.python.metadata.metadata_writers import model_asset_bundle_utils

    members = {"pose_detector.tflite": detector, "pose_landmarks_detector.tflite": landmarks}
    with model_asset_bundle_utils.AlignZipFile(dest, mode="w", alignment=4) as bundle:
        for name, data in members.items():
            bundle.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, help="a mediapipe 0.10.21 wheel (else pip downloads it)")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(Path(tmp))
        sources = read_sources(wheel)
    args.out.mkdir(parents=True, exist_ok=True)
    pose_bundle(sources["pose_detection"], with_metadata(sources["pose_landmark_full"]), args.out / POSE_TASK)
    (args.out / FACE_MODEL).write_bytes(sources["face_detection"])
    for name in (POSE_TASK, FACE_MODEL):
        path = args.out / name
        print(f"{name}  {path.stat().st_size} bytes  sha256 {hashlib.sha256(path.read_bytes()).hexdigest()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
