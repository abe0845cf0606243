"""The command line dispatches to every sub-command and rejects unknown ones."""

import pytest

from ixathaldex import cli


def test_every_subcommand_has_help(capsys):
    for name in cli.COMMANDS:
        with pytest.raises(SystemExit) as exc:
            cli.main([name, "--help"])
        assert exc.value.code == 0
        assert name in capsys.readouterr().out


def test_unknown_subcommand_fails():
    with pytest.raises(SystemExit) as exc:
        cli.main(["no-such-command"])
    assert exc.value.code == 2


def test_the_chosen_subcommand_is_found_past_the_options():
    assert cli.chosen_command(["-q", "build", "--jobs", "2"]) == "build"
    assert cli.chosen_command(["--project", "build", "validate"]) == "validate"  # a folder named build
    assert cli.chosen_command(["--proj", "synth", "build"]) == "build"
    assert cli.chosen_command(["--project=x", "withdraw"]) == "withdraw"
    assert cli.chosen_command(["-q"]) is None
    assert cli.chosen_command(["no-such-command", "build"]) is None


def test_options_of_a_subcommand_after_the_project_option(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--project", str(tmp_path), "build", "--no-such-option"])
    assert exc.value.code == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


def test_help_imports_no_subcommand_module():
    """`ixathaldex --help` lists every sub-command without importing one (nor pandas, scipy...)."""
    import subprocess
    import sys

    code = ("import sys\nfrom ixathaldex import cli\ntry:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print([m for m in ('pandas', 'scipy', 'ixathaldex.site.build', 'ixathaldex.synth.command', "
            "'ixathaldex.data.validate') if m in sys.modules])")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stdout + proc.stderr
    assert all(name in proc.stdout for name in cli.COMMANDS)
