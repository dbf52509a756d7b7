"""Template filters of the case app."""
