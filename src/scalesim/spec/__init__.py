"""The system spec: typed model, units, loading with line-numbered errors, overrides, schema."""

from scalesim.spec.errors import SpecError, SpecIssue
from scalesim.spec.loader import load_spec, load_spec_text
from scalesim.spec.model import System

__all__ = ["SpecError", "SpecIssue", "System", "load_spec", "load_spec_text"]
