"""The Gradio page. `page.py`'s `create_demo()` reads as the page, top to bottom; the parts live beside it:

- `layout/` lays out each part and returns its components (a module per part),
- `handlers/` says what each event does (calling the studio, returning `{component: value}`), a module
  per group of events: the inputs, a run, the gallery, a batch,
- `wiring.py` connects events to handlers, `api.py` is the public API,
- `launching.py` serves it (`python app.py` runs `launch()`).
"""
