"""Market data feeds behind one interface (base.Feed): simulated, historical replay, Interactive Brokers."""
