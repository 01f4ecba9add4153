"""Partner signals on the wire (DESIGN §5): field parsers, the wire model and its translation."""
