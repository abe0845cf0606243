"""Placeholder: being written (see the open issues). Replaced by its owner."""


def configure_parser(parser) -> None:
    pass


def run(args) -> int:
    raise NotImplementedError("synthetic is not written yet")
