"""One module per dossier section; each `build(ctx)` returns that section's flowables."""
