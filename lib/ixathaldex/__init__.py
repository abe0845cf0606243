"""IxaThalDex living publication: data snapshots, analyses and the versioned book."""

__version__ = "0.1.0"
