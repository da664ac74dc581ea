"""The exception root of the metrics package."""


class MetricsError(Exception):
    """Root of every error the metrics package raises on bad input or data."""


class CalendarError(MetricsError):
    """A working schedule, week string or moment the calendar cannot use."""


class DatabaseError(MetricsError):
    """A database URL, file or schema jianfu cannot use (missing, foreign, not migrated)."""
