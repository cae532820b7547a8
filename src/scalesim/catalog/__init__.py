"""Pattern knowledge: one YAML file per pattern, loaded and checked into a searchable Catalog."""

from scalesim.catalog.collection import Catalog, UnknownPatternError
from scalesim.catalog.loader import CatalogError, load_catalog
from scalesim.catalog.model import Pattern

__all__ = ["Catalog", "CatalogError", "Pattern", "UnknownPatternError", "load_catalog"]
