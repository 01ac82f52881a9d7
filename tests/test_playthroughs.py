"""Every playthrough test (*.test.toml) under scenarios/ and tests/data/, one pytest case per test and seed.

A file that does not load is one failing case that shows its diagnostics.
"""

from __future__ import annotations

from functools import cache

import pytest

from simulator.playtest import LoadedTests, load_tests, run_case, test_files

from .conftest import DATA, ROOT

FILES = test_files([ROOT / "scenarios", DATA])


@cache
def loaded(path) -> LoadedTests:
    from scoring.catalogue import load_catalogue

    return load_tests(path, load_catalogue().ids)


def cases():
    for path in FILES:
        rel = path.relative_to(ROOT).as_posix()
        tests = loaded(path)
        if not tests.ok:
            yield pytest.param(path, None, None, id=f"{rel}: does not load")
            continue
        for i, test in enumerate(tests.file.test):
            for seed in test.seed_list:
                yield pytest.param(path, i, seed, id=f"{rel}: {test.name} (seed {seed})")


def test_there_are_playthrough_tests():
    assert (DATA / "mini.test.toml") in FILES


@pytest.mark.parametrize("path, index, seed", list(cases()))
def test_playthrough(path, index, seed):
    tests = loaded(path)
    if index is None:
        pytest.fail("\n".join(d.render() for d in tests.diagnostics), pytrace=False)
    result = run_case(tests, index, seed)
    if not result.passed:
        pytest.fail("\n".join(d.render() for d in result.failures), pytrace=False)
