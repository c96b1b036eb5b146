"""Start GPT Builder: python app.py, then open http://127.0.0.1:7860."""

from __future__ import annotations

import logging
import threading


def main() -> None:
    # Imported here, not above: each document is read in a child process that imports this
    # file again (as multiprocessing does), and should not pay for gradio and torch.
    from gptbuilder.config import Settings
    from gptbuilder.datalock import DataFolderInUse, lock_data_folder

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings()
    try:
        lock = lock_data_folder(settings.data_dir, f"http://{settings.host}:{settings.port}")
    except DataFolderInUse as err:
        logging.getLogger("gptbuilder").error("%s", err)
        raise SystemExit(1) from None

    from gptbuilder.services import Services
    from gptbuilder.ui.server import serve

    with lock:
        services = Services.build(settings)
        # What the first upload would wait for is built while the page loads.
        threading.Thread(target=services.warm_up, name="gptb-warm-up", daemon=True).start()
        serve(services)


if __name__ == "__main__":
    main()
