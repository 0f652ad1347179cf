"""Media checks that run before anything is uploaded or paid for, and the few easy conversions.

Inspection is split from preparation: `inspect_*` only reads headers (tens of milliseconds, safe to
run on every change in the UI) and returns a report with a verdict; `prepare_*` converts what the
model does not take (webm, ProRes, RGBA PNG, HEIC, WebP, EXIF-rotated photos...) into a file it does
take; `preview_*`, `side_by_side` and `comparison_grid` make copies only for people to look at.
Every refusal is an `InputError` carrying one sentence that says what is wrong and what to do.

The modules: `ffmpeg` (the binary and how untrusted files reach it), `video`, `image`, `run_inputs`
(a run's inputs as a whole), `views` (previews), `grid_video` (a batch's results side by side), `files`
(what every check needs about a file first) and `memo` (a file's readings, remembered until it changes).
"""
