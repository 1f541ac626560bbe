"""`wsgi:app` for gunicorn and flask commands; `python wsgi.py` runs the embedded default on
http://127.0.0.1:5000 (PORT, STANDIN_PORT), after which flask commands run on its database too
(app/embedded.py)."""
import os

if __name__ == "__main__":
    os.environ.setdefault("XIANGZHU_EMBEDDED", "1")

from app import create_app  # noqa: E402
from app.embedded import commands_config, serve_embedded  # noqa: E402

if __name__ == "__main__":
    serve_embedded()
else:
    app = create_app(commands_config())
