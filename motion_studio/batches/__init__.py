"""Batches: one reference clip with several character images, or one image with several clips, asked
for as one order: one verdict for every input, one estimate and one spending check for the whole batch,
its runs started together (a few at a time on their way to fal, see `jobs/turns.py`), cancelled
together, and one grid of every result at the end.

Each run of a batch is a run like any other (the runner's `start`, the pipeline, the lifecycle, the
gallery): a batch adds only what holds for its runs together. Their rows are reserved in one
transaction (`history.writes.create_many`), so a batch that does not fit the daily budget or a visitor's
limits is refused whole, before anything is uploaded.

`reading` (the verdict before Generate), `batch_starts` (the runs' rows and jobs), `progress` (a
started batch and where its runs are), `batch_grids` (every result side by side) and `batch_service`
(`Batches`, the one entry point).
"""
