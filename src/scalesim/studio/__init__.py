"""ScaleSim Studio: the web app. FastAPI routes over the package API (spec, sim, templates,
generate, lint, catalog, render), a run manager that simulates in worker processes, a
SQLAlchemy store of designs and runs, and the built front end served as static files.
See docs/studio.md."""

from scalesim.studio.app import create_app
from scalesim.studio.config import StudioConfig

__all__ = ["StudioConfig", "create_app"]
