"""What each event on the page does: call the studio, return `{component: value}` for what changes.

No rule is decided here: which key pays, what a run may do next, what the inputs amount to and what a
run costs come from the studio (and, through it, the lifecycle and the catalogue); the sentences come
from the presenter, `batch_text` and `notices`. A handler only picks the components the answer goes to.

A group of handlers per thing the user does, each an object holding what it needs (`page_handlers`
makes them): `input_events` (the live check, previews, trim, examples, the people check, the face
panel), `running` (start a run, follow its progress, cancel it), `gallery_events` (the gallery, and what
can be done with a selected run) and `batch_events` (a batch's check, start, progress and grid). What
they share are objects too: `result_views` draws the result area and the gallery, `streams` keeps a page
to one progress stream, and `page_order` reads the page's inputs as the run (or batch) they ask for.
"""
