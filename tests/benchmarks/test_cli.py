"""The `curiosity` dispatcher: plain-text help for every command."""

import re

import pytest

from benchmarks.cli import COMMANDS, main

RST = re.compile(r"``|:(class|func|meth|mod|attr|data):`")


@pytest.mark.parametrize("words", [(), *COMMANDS], ids=lambda w: " ".join(w) or "curiosity")
def test_help_is_plain_text(words, capsys):
    try:
        main([*words, "--help"])
    except SystemExit as exit_info:
        assert exit_info.code == 0
    out = capsys.readouterr().out
    assert "curiosity" in out or "usage" in out
    assert not RST.search(out), RST.search(out).group(0)
