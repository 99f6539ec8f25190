"""CRD manifests -> kubeconform JSON schemas: <out>/<group>/<kind>_<version>.json (kind in lower case).

Strict like kubeconform's built-in schemas with -strict: an object that lists its properties refuses others,
unless the CRD says it keeps unknown fields. apiVersion, kind and metadata are added at the root.
"""
import json
import os
import sys

import yaml


def strict(node):
    if isinstance(node, dict):
        node = {key: strict(value) for key, value in node.items()}
        if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node \
                and not node.get("x-kubernetes-preserve-unknown-fields"):
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [strict(value) for value in node]
    return node


def main(out, paths):
    for path in paths:
        with open(path) as file:
            for crd in yaml.safe_load_all(file):
                if not crd or crd.get("kind") != "CustomResourceDefinition":
                    continue
                group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
                for version in crd["spec"]["versions"]:
                    schema = strict(version["schema"]["openAPIV3Schema"])
                    schema.setdefault("properties", {}).update({
                        "apiVersion": {"type": "string", "enum": [f"{group}/{version['name']}"]},
                        "kind": {"type": "string", "enum": [kind]},
                        "metadata": {"type": "object"},
                    })
                    target = os.path.join(out, group, f"{kind.lower()}_{version['name']}.json")
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    with open(target, "w") as file_out:
                        json.dump(schema, file_out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
