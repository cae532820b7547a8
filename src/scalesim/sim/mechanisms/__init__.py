"""One module per mechanism; the kernel calls each at a few named points."""
