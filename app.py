"""Start GPT Builder: python app.py, then open http://127.0.0.1:7860."""

from __future__ import annotations

import logging


def main() -> None:
    # Imported here, not above: each document is read in a child process that imports this
    # file again (as multiprocessing does), and should not pay for gradio and torch.
    from gptbuilder.config import Settings
    from gptbuilder.services import Services
    from gptbuilder.ui.server import serve

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings()
    services = Services.build(settings)
    serve(services)


if __name__ == "__main__":
    main()
