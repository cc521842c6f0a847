#!/usr/bin/env python3
"""Checks every line of exported journals (NDJSON) against event.schema.json.

Usage: validate.py FILE.ndjson [...]   ('-' reads standard input)
Prints one line per invalid event and exits 1 if there is any.
"""
import json
import pathlib
import sys

import jsonschema

schema = json.loads((pathlib.Path(__file__).parent / "event.schema.json").read_text())
validator = jsonschema.Draft202012Validator(schema)
bad = 0
for name in sys.argv[1:] or ["-"]:
    stream = sys.stdin if name == "-" else open(name, encoding="utf-8")
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        for error in validator.iter_errors(json.loads(line)):
            bad += 1
            where = "/".join(str(p) for p in error.absolute_path) or "(line)"
            print(f"{name}:{number}: {where}: {error.message}")
sys.exit(1 if bad else 0)
