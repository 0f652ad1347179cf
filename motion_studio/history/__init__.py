"""Run history: the runs, their timeline, and the leases of whoever follows them, in SQLite.

`store.History` is the one class callers use; `runs` holds the `Run` it stores, `limits` a visitor's
`VisitorLimits`, `schema` the database's migrations.
"""
