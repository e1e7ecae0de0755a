#!/usr/bin/python3
"""Validates ONNX files written by `xent export` with the ONNX checker (Debian's python3-onnx).

Usage: /usr/bin/python3 tools/check_onnx.py model.onnx [more.onnx ...]
Exits 1 if any file fails the check; prints each file's inputs, outputs, opsets and Xent metadata.
"""
import sys

import onnx


def main(paths):
    failed = 0
    for path in paths:
        model = onnx.load(path)
        try:
            onnx.checker.check_model(model, full_check=True)
        except Exception as e:  # the checker raises its own ValidationError and shape-inference errors
            print(f"{path}: FAILED: {e}")
            failed += 1
            continue
        inputs = ", ".join(f"{i.name}" for i in model.graph.input)
        outputs = ", ".join(o.name for o in model.graph.output)
        opsets = ", ".join(f"{o.domain or 'ai.onnx'} {o.version}" for o in model.opset_import)
        meta = {p.key: p.value for p in model.metadata_props}
        print(f"{path}: ok; inputs {inputs}; outputs {outputs}; opsets {opsets}; classes {meta.get('xent.classes')}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
