"""Run history: the runs, their timeline, and the leases of whoever follows them, in SQLite.

`store.History` is the one object callers open; they use its parts: `db` (where it lives), `reads`
(`queries.Queries`), `writes` (`writes.Writes`), `leases` (`leasing.Leasing`) and `uploads`
(`uploads.UploadCache`). `runs` holds the `Run` it stores, `limits` a visitor's `VisitorLimits`,
`schema` the database's migrations.
"""
