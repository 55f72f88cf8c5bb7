#!/usr/bin/env python3
"""Validates JSON documents against one of the schemas in docs/schema (JSON Schema draft 2020-12).

    validate-json.py SCHEMA FILE...          each FILE is one document
    validate-json.py --lines SCHEMA FILE...  each non-empty line of each FILE is one document

A `$ref` to another file ("result.schema.json#/$defs/timestamp") is read from SCHEMA's folder,
never from the network. Prints one line per problem, `FILE[:LINE]: $.path: message`, and exits 0
when every document is valid, 1 when one is not, 2 when the schema itself or a document cannot be
read (or python3-jsonschema is missing).
"""
import json, os, sys

try:
    import jsonschema
    from jsonschema import Draft202012Validator
except ImportError:
    sys.exit("validate-json: python3-jsonschema is missing (apt-get install python3-jsonschema)")


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as error:
        print(f"validate-json: cannot read {path}: {error}", file=sys.stderr)
        sys.exit(2)


def validator_for(schema_path):
    folder = os.path.dirname(os.path.abspath(schema_path))
    schemas = {name: load(os.path.join(folder, name)) for name in os.listdir(folder) if name.endswith(".schema.json")}
    root = schemas[os.path.basename(schema_path)]
    Draft202012Validator.check_schema(root)
    try:
        from referencing import Registry, Resource  # jsonschema 4.18 and later
    except ImportError:  # Debian 12's jsonschema 4.10
        resolver = jsonschema.RefResolver(base_uri="", referrer=root, store=schemas)
        return Draft202012Validator(root, resolver=resolver)
    registry = Registry().with_resources((name, Resource.from_contents(s)) for name, s in schemas.items())
    return Draft202012Validator(root, registry=registry)


def documents(path, lines):
    if not lines:
        yield path, load(path)
        return
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield f"{path}:{number}", json.loads(line)
                except ValueError as error:
                    print(f"validate-json: {path}:{number} is not JSON: {error}", file=sys.stderr)
                    sys.exit(2)


def main(arguments):
    lines = arguments[:1] == ["--lines"]
    if lines:
        arguments = arguments[1:]
    if len(arguments) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    validator = validator_for(arguments[0])
    problems = 0
    for path in arguments[1:]:
        for where, document in documents(path, lines):
            for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
                # Inside `oneOf` (a value or null), the alternative that came closest says what is wrong.
                error = jsonschema.exceptions.best_match([error])
                location = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
                print(f"{where}: {location}: {error.message}")
                problems += 1
    return 1 if problems else 0


sys.exit(main(sys.argv[1:]))
