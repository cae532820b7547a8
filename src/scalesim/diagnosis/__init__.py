"""What went wrong in a run and the smallest change that fixes it.

Reads a System and its result (the JSON document of docs/results.md); sizes its fixes with
the analytic layer (healthy hold and round-trip times, Little's law). Never simulates.
"""

from scalesim.diagnosis.diagnose import diagnose, findings
from scalesim.diagnosis.finding import Finding, Fix

__all__ = ["Finding", "Fix", "diagnose", "findings"]
