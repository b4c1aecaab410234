#!/usr/bin/env python3
"""Write a service's typed inputs from its reduced model (crates/server/models/<service>.json,
made by scripts/reduce-models.py): one struct per input shape and nested structure, with every
member the model gives (required members plain, optional ones `Option` or an empty `Vec`), and
the `Input` enum with one variant per served operation and its parser.

Usage:
    python3 scripts/gen-inputs.py iam            # writes crates/server/src/services/iam/input.rs
    python3 scripts/gen-inputs.py iam --check    # exits 1 if the file differs from the output
"""

import argparse
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
RUST_KEYWORDS = {"type", "match", "ref", "self", "struct", "enum", "fn", "use", "mod", "move"}
API = {"iam": "Iam", "sts": "Sts", "kms": "Kms"}


def snake(name):
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s).lower()
    return f"r#{s}" if s in RUST_KEYWORDS else s


def type_name(shape_name):
    return shape_name[0].upper() + shape_name[1:]


def rust_type(model, shape_name, structs):
    shape = model["shapes"][shape_name]
    kind = shape["type"]
    if kind == "structure":
        structs.append(shape_name)
        return type_name(shape_name)
    if kind == "list":
        return f"Vec<{rust_type(model, shape['member']['shape'], structs)}>"
    if kind == "map":
        return f"BTreeMap<String, {rust_type(model, shape['value']['shape'], structs)}>"
    return {"integer": "i64", "long": "i64", "boolean": "bool", "double": "f64", "float": "f64"}.get(
        kind, "String"
    )


def struct(model, shape_name, structs):
    shape = model["shapes"][shape_name]
    required = set(shape.get("required", []))
    lines = [
        "#[derive(Clone, Debug, Deserialize)]",
        f"pub(crate) struct {type_name(shape_name)} {{",
    ]
    for member, ref in shape["members"].items():
        t = rust_type(model, ref["shape"], structs)
        lines.append(f'    #[serde(rename = "{member}"{", default" if t.startswith("Vec<") and member not in required else ""})]')
        if member not in required and not t.startswith("Vec<"):
            t = f"Option<{t}>"
        lines.append(f"    pub {snake(member)}: {t},")
    lines.append("}")
    return "\n".join(lines)


def generate(service):
    model = json.loads((ROOT / "crates/server/models" / f"{service}.json").read_text())
    api = API[service]
    structs, seen, out = [], set(), []
    ops = model["operations"]
    for op in ops.values():
        if "input" in op:
            structs.append(op["input"])
    while structs:
        name = structs.pop(0)
        if name in seen:
            continue
        seen.add(name)
        out.append(struct(model, name, structs))
    variants, arms = [], []
    for name, op in ops.items():
        if "input" in op:
            variants.append(f"    {name}({type_name(op['input'])}),")
            arms.append(f"            Op::{name} => Input::{name}(parse(Api::{api}, \"{name}\", source, Rules::All)?),")
        else:
            variants.append(f"    {name},")
            arms.append(f"            Op::{name} => Input::{name},")
    header = f"""//! {service.upper()}'s typed inputs: one struct per input shape of botocore's model
//! (`crates/server/models/{service}.json`), parsed once at routing (`protocol::input`).
//!
//! Written by `scripts/gen-inputs.py {service}` from the model: edit the script, not this file.
#![allow(dead_code, clippy::struct_field_names)]

use super::{type_name(service)}Operation as Op;
use crate::error::ApiError;
use crate::protocol::input::{{parse, Rules, Source}};
use crate::protocol::model::Api;
use serde::Deserialize;
#[allow(unused_imports)]
use std::collections::BTreeMap;
"""
    enum = "\n".join(
        ["/// One operation's input.", "#[derive(Clone, Debug)]", "pub(crate) enum Input {"]
        + variants
        + ["}"]
    )
    texts, tags, tag_keys, numbers, flags, lists = [], [], [], [], [], []
    for name, op in ops.items():
        if "input" not in op:
            continue
        shape = model["shapes"][op["input"]]
        required = set(shape.get("required", []))
        for member, ref in shape["members"].items():
            kind = model["shapes"][ref["shape"]]["type"]
            if kind == "string":
                get = f"Some(i.{snake(member)}.as_str())" if member in required else f"i.{snake(member)}.as_deref()"
                texts.append(f"            (Input::{name}(i), \"{member}\") => {get},")
            if kind in ("integer", "long"):
                get = f"Some(i.{snake(member)})" if member in required else f"i.{snake(member)}"
                numbers.append(f"            (Input::{name}(i), \"{member}\") => {get},")
            if kind == "boolean":
                get = f"Some(i.{snake(member)})" if member in required else f"i.{snake(member)}"
                flags.append(f"            (Input::{name}(i), \"{member}\") => {get},")
            if kind == "list" and model["shapes"][model["shapes"][ref["shape"]]["member"]["shape"]]["type"] == "string":
                lists.append(f"            (Input::{name}(i), \"{member}\") => &i.{snake(member)},")
            if member == "Tags":
                tags.append(f"            Input::{name}(i) => &i.tags,")
            if member == "TagKeys":
                tag_keys.append(f"            Input::{name}(i) => &i.tag_keys,")
    accessors = "\n".join(
        [
            "impl Input {",
            "    /// A string member of the input, by its model name (for what spans every",
            "    /// operation: the resource an operation acts on, the event's parameters).",
            "    pub(crate) fn text(&self, member: &str) -> Option<&str> {",
            "        match (self, member) {",
        ]
        + texts
        + ["            _ => None,", "        }", "    }", "",
           "    /// An integer member of the input, by its model name.",
           "    pub(crate) fn number(&self, member: &str) -> Option<i64> {",
           "        match (self, member) {"]
        + numbers
        + ["            _ => None,", "        }", "    }", "",
           "    /// A boolean member of the input, by its model name.",
           "    pub(crate) fn flag(&self, member: &str) -> Option<bool> {",
           "        match (self, member) {"]
        + flags
        + ["            _ => None,", "        }", "    }", "",
           "    /// A list-of-strings member of the input, by its model name (empty when absent).",
           "    pub(crate) fn list(&self, member: &str) -> &[String] {",
           "        match (self, member) {"]
        + lists
        + ["            _ => &[],", "        }", "    }", "",
           "    /// The tags the request sets (`Tags`), if it sets any.",
           "    pub(crate) fn tags(&self) -> &[Tag] {",
           "        match self {"]
        + tags
        + ["            _ => &[],", "        }", "    }", "",
           "    /// The tag keys the request names (`TagKeys`), if any.",
           "    pub(crate) fn tag_keys(&self) -> &[String] {",
           "        match self {"]
        + tag_keys
        + ["            _ => &[],", "        }", "    }", "}"]
    )
    parser = "\n".join(
        [
            "impl Input {",
            "    /// Parses `operation`'s input from the request's parameters.",
            "    pub(crate) fn parse(operation: Op, source: Source<'_>) -> Result<Input, ApiError> {",
            "        Ok(match operation {",
        ]
        + arms
        + ["        })", "    }", "}"]
    )
    return header + "\n" + "\n\n".join(out) + "\n\n" + enum + "\n\n" + parser + "\n\n" + accessors + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("service", choices=sorted(API))
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    path = ROOT / "crates/server/src/services" / args.service / "input.rs"
    text = generate(args.service)
    if args.check:
        if path.read_text() != text:
            print(f"{path} differs from the generator's output (run rustfmt after writing)")
            sys.exit(1)
        return
    path.write_text(text)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
