"""The ZeroGPU rules hold over this Space's files (zerogpu/rules.py: each failure names the rule and the fix).

The same checks run from the command line: `uv run python -m zerogpu.rules`.
"""

from pathlib import Path

import pytest

from zerogpu import rules

SPACE_DIR = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("rule", sorted(rules.RULES))
def test_rule_holds(rule):
    violations = rules.check(SPACE_DIR, [rule])
    assert not violations, "\n".join(str(violation) for violation in violations)


def test_the_rules_see_the_gpu_handlers():
    """A rule over no handler would pass for nothing: the app's handlers must be found."""
    app = rules.Space(SPACE_DIR).app
    assert app is not None and app.handlers, "app.py has no @spaces.GPU handler the rules can see"
