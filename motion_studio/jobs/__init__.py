"""Background jobs: a run's events (`events`), the job that carries them (`job`), the runner
(`runner`: it holds a `Supervisor`, whose one function is a run from check to download, and a
`Canceller`), the steps (`reserving`, `pipeline`), and how any failure ends (`outcome`)."""
