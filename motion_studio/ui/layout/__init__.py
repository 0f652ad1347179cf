"""The page's parts, top to bottom: each builder lays out one part and returns its components.

No event is wired here (see `wiring.py`) and no rule is decided (see `handlers/`): a newcomer can
read what the page looks like without reading what it does. Every `elem_id` is what the browser tests
(and users' own scripts) find the page by.

One module per part: `page_header` (the intro and the key), `inputs_column` (the left column, with
`face`, Kling v3's face panel, and `batch_panel`), `result_column` (the right column, with
`batch_panel`'s Grid tab), `gallery_panel` (below both), `page_memory` (what a page remembers between
events); `parts` holds them as one `Page`, and `assets` is where their files and long texts live.
"""
