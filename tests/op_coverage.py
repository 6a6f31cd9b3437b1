"""Every (op, input type) that `numlite ops` lists has a differential test against LiteRT.

A pytest plugin (loaded by conftest.py). While the suite runs, it records every model handed to
LiteRT's Interpreter — that is, every model some test runs in the oracle — as the set of
(op, input-0 type) pairs it contains. When the run included the whole of tests/ops, it compares
that set with the registry's declared types (`numlite ops --json`): a listed pair that no test ran
through LiteRT fails the run, naming the pair. Running a subset of the suite checks nothing.
"""
import os

import pytest

_RECORDED = set()
_OPS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops")


def _record_model(model_path=None, model_content=None):
    from numlite.schema import load_model
    try:
        model = load_model(model_path=model_path) if model_path else load_model(model_content=model_content)
    except Exception:  # models LiteRT is asked to refuse are none of our business here
        return
    for sg in model.subgraphs:
        for op in sg.operators:
            first = next((i for i in op.inputs if i >= 0), None)
            type_name = sg.tensors[first].type_name if first is not None else None
            _RECORDED.add((("custom:" if op.custom else "") + op.opcode, type_name))


def pytest_configure(config):
    from ai_edge_litert import interpreter as litert
    original = litert.Interpreter.__init__

    def recording_init(self, model_path=None, model_content=None, *args, **kwargs):
        _record_model(model_path, model_content)
        return original(self, model_path, model_content, *args, **kwargs)
    litert.Interpreter.__init__ = recording_init
    config._numlite_litert_init = (litert.Interpreter, original)


def _ran_all_op_tests(session):
    files = {os.path.abspath(str(item.fspath)) for item in session.items}
    wanted = {os.path.join(_OPS_DIR, f) for f in os.listdir(_OPS_DIR) if f.startswith("test_") and f.endswith(".py")}
    return wanted <= files and not session.config.option.keyword and not session.config.option.markexpr


def missing_pairs():
    from numlite.cli import op_table
    missing = []
    for row in op_table():
        if row["op"].startswith("custom:") and row["op"] not in {k for k, _ in _RECORDED}:
            # LiteRT's Python package cannot run numlite's custom ops: their tests use builtin
            # equivalents, recorded under the builtin names.
            continue
        for t in row["types"]:
            if (row["op"], t) not in _RECORDED:
                missing.append("%s with %s input" % (row["op"], t))
    return missing


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    cls, original = getattr(session.config, "_numlite_litert_init", (None, None))
    if cls is not None:
        cls.__init__ = original
    if exitstatus != 0 or session.testsfailed or not _ran_all_op_tests(session):
        return
    missing = missing_pairs()
    if missing:
        session.config._numlite_missing = missing
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    missing = getattr(config, "_numlite_missing", None)
    if missing:
        terminalreporter.section("op coverage", sep="=", red=True)
        terminalreporter.write_line("`numlite ops` lists %d (op, type) pairs that no test ran through LiteRT:"
                                    % len(missing))
        for m in missing:
            terminalreporter.write_line("  " + m)
