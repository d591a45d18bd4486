#!/usr/bin/env python3
"""Run the CI's own tests (unittest) and print one closing line: `ci: N passed, N failed`."""

import sys
import unittest
from pathlib import Path

here = Path(__file__).resolve().parent
sys.path.insert(0, str(here))
suite = unittest.defaultTestLoader.discover(str(here), pattern="test_*.py", top_level_dir=str(here))
result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
passed = result.testsRun - failed - len(result.skipped)
line = f"ci: {passed} passed, {failed} failed"
if result.skipped:
    line += f", {len(result.skipped)} skipped"
print(line)
sys.exit(0 if failed == 0 and result.testsRun > 0 else 1)
