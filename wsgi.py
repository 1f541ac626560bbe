"""`wsgi:app` for gunicorn; `python wsgi.py` runs the embedded default on http://127.0.0.1:5000."""
import os

if __name__ == "__main__":
    os.environ.setdefault("XIANGZHU_EMBEDDED", "1")

from app import create_app  # noqa: E402

if __name__ == "__main__":
    from app.embedded import serve_embedded

    serve_embedded()
else:
    app = create_app()
