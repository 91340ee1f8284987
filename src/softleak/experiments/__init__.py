"""One module per chapter: its config dataclass, presets, and the sweep that runs it."""
