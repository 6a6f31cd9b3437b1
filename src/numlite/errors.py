"""numlite's exception types."""


class ModelError(ValueError):
    """A model file or model IR is malformed or inconsistent."""


class UnsupportedOpError(ModelError):
    """The model uses an operator (or operator version/type combination) numlite does not run."""

    def __init__(self, op_name, version=None, node_index=None, detail=""):
        self.op_name, self.version, self.node_index = op_name, version, node_index
        where = "" if node_index is None else " at node %d" % node_index
        ver = "" if version is None else " version %d" % version
        msg = "unsupported operator %s%s%s" % (op_name, ver, where)
        super().__init__(msg + (": " + detail if detail else ""))
