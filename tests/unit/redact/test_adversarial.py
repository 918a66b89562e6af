"""No rule backtracks catastrophically: cost stays linear and small on hostile inputs.

Two kinds of input, each built at 4 KiB and 16 KiB for every rule alone:

- *probes*: one long run of a single character class, bare or after the start of what a
  rule looks for (``eyJ``, ``password=``, ``-----BEGIN ... PRIVATE KEY-----``, ...), the
  inputs that make a backtracking pattern retry every split. Budget: 1 ms at 16 KiB.
- *dense*: a short unit repeated (``a@``, ``4111 ``, ``name=A ``), so that candidates or
  findings come every few characters. Budget: linear growth and at most 5 µs a finding
  (or 3 ms in all when the unit produces none).

Times are the best of several runs, so a busy machine does not fail the test. Growth is
checked against 10x for 4x the input: linear work grows 4x, a quadratic one 16x, so the
bound tells them apart with room for a noisy machine.
"""

from __future__ import annotations

import time

import pytest

from logpond.redact import RULE_NAMES, Policy, Redactor

SMALL, LARGE = 4 * 1024, 16 * 1024
RUNS = 7
MAX_GROWTH = 10  # from 4 KiB to 16 KiB: linear is 4, quadratic 16

PROBE_PREFIXES = (
    "", "eyJ", "eyJhbGciOiJIUzI1NiJ9.", "password=", 'password="', "token: ", "name=",
    "customer_name=", "Bearer ", "Basic ", "-----BEGIN RSA PRIVATE KEY-----\n", "http://",
    "http://user:", "AKIA", "aws_secret_access_key=", "+", "(", "DE89", "::", "1.",
)  # fmt: skip
PROBE_RUNS = ("a", "A", "1", "f", " ", ".", "-", "_", "=", ":", "@", "/", "+", "é")

DENSE_UNITS = (
    "a@", "a.a@", "@a.", "x@x.io ", "eyJa.", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc ",
    "name=", "name=A ", "name=John Doe ", "customer_name=Jo ", "password=", "token=",
    "Bearer ", "Basic ", "http://a:b@", "a://a:", "4111 ", "1 ", "1-", "0 1", "+33 1 ",
    "12 ", "1.1.", "::", "a:", "DE89 ", "AKIA", "-----BEGIN PRIVATE KEY-----",
)  # fmt: skip


def time_redact(redactor: Redactor, text: str, runs: int = RUNS) -> float:
    """The best of several timings of ``redact_text`` on ``text``, in seconds."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        redactor.redact_text(text)
        best = min(best, time.perf_counter() - start)
    return best


def sized(prefix: str, unit: str, size: int) -> str:
    body = unit * ((size - len(prefix)) // len(unit) + 1)
    return (prefix + body)[:size]


@pytest.fixture(scope="module", params=RULE_NAMES)
def redactor(request: pytest.FixtureRequest) -> Redactor:
    return Redactor(Policy(rules=frozenset({request.param})))


def test_probes_cost_under_a_millisecond(redactor: Redactor) -> None:
    """Every probe takes at most 1 ms at 16 KiB and grows linearly from 4 KiB."""
    for prefix in PROBE_PREFIXES:
        for unit in PROBE_RUNS:
            small, large = sized(prefix, unit, SMALL), sized(prefix, unit, LARGE)
            small_time, large_time = time_redact(redactor, small), time_redact(redactor, large)
            assert large_time <= 1e-3, (prefix, unit, large_time)
            if large_time / max(small_time, 1e-6) > MAX_GROWTH and large_time > 1e-4:
                # measure again, longer, before calling it non-linear
                ratio = time_redact(redactor, large, 21) / time_redact(redactor, small, 21)
                assert ratio <= MAX_GROWTH, (prefix, unit, ratio)


def test_dense_inputs_stay_linear(redactor: Redactor) -> None:
    """Repeated units grow linearly from 4 KiB to 16 KiB and cost at most 5 µs a finding."""
    for unit in DENSE_UNITS:
        text = sized("", unit, LARGE)
        small = time_redact(redactor, sized("", unit, SMALL))
        large = time_redact(redactor, text)
        findings = sum(redactor.redact_text(text)[1].values())
        assert large / max(small, 1e-6) <= MAX_GROWTH or large <= 1e-4, (unit, small, large)
        budget = max(3e-3, 5e-6 * findings)
        assert large <= budget, (unit, large, findings)
