"""Reports built from a study folder's stored results only (no search is re-run)."""

from .build import ReportError, build_report

__all__ = ["ReportError", "build_report"]
