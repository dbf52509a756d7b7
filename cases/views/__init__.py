"""Views of the case app, one module per part of the workspace."""
