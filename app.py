"""Entry point for `python app.py` and for Hugging Face Spaces."""

from motion_studio.ui.launching import launch

if __name__ == "__main__":
    launch()
