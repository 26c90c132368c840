"""One level down: the regional return rolled up from its units' accepted returns."""
