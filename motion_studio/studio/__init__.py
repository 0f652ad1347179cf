"""The objects one running app shares between its page, its API and its background jobs.

Kept out of the `ui` package so the page holds layout and wiring only: which runs a browser may see
(private galleries), which key pays, and what a user may do with a run (from the lifecycle) are
decided here. `service.Studio` holds one collaborator per job: `keys`, `orders.Orders`,
`gallery_pages.Gallery` and `run_actions.RunActions`.
"""
