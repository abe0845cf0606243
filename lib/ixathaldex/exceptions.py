"""The package's exceptions: one base class, one subclass per failure family."""


class IxaThalDexError(Exception):
    """Base class of every error this package raises on purpose."""


class SnapshotError(IxaThalDexError):
    """A data snapshot is missing, malformed, or was modified after publication."""


class ValidationError(SnapshotError):
    """A snapshot broke one or more data rules; ``problems`` lists every one of them."""

    def __init__(self, problems):
        self.problems = list(problems)
        lines = [f"{len(self.problems)} problem(s) found:"] + [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class CalibrationError(IxaThalDexError):
    """The synthetic-cohort generator could not satisfy a hard constraint."""


class AnalysisError(IxaThalDexError):
    """An analysis was asked for something the data cannot give (empty group, unknown factor)."""


class BuildError(IxaThalDexError):
    """A step of the site build failed; the published site was left untouched."""


class ClaimsError(IxaThalDexError):
    """The registry of published numbers is malformed, or a claim has no computed value."""


class ProjectError(IxaThalDexError):
    """No project folder was found, or one of its configuration files is missing or malformed."""
