"""yiwang (一网): one data foundation for digital government."""

__version__ = "0.1.0"
