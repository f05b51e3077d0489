"""The execution-apis specification as JSON Schema: load the method and schema files, validate
values against a method's result schema or a named component.

The reference lives next to the repository (`../shared/reference/execution-apis`, the `src/`
folder of github.com/ethereum/execution-apis); `EXECUTION_APIS` may point elsewhere. The method
files (`eth/*.yaml`, ...) list methods with `result.schema`; `schemas/*.yaml` hold the components
that `$ref: '#/components/schemas/X'` names. Both go into one document so that the refs resolve
as written, through a `referencing` registry (JSON Schema draft 2019-09, as the spec declares).
"""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft201909Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry
from referencing.jsonschema import DRAFT201909

REPO = Path(__file__).resolve().parents[2]
DEFAULT_LOCATION = REPO.parent / "shared" / "reference" / "execution-apis"
METHOD_FOLDERS = ("eth", "debug", "txpool")
SPEC_URI = "urn:execution-apis"


@dataclass(frozen=True)
class Spec:
    """The loaded specification."""

    location: Path
    """Where it was read from."""
    methods: dict[str, dict[str, Any]]
    """Method objects by name (`params`, `result`, ...)."""
    components: dict[str, Any]
    """Component schemas by name."""
    registry: Registry[Any]
    """Resolves `urn:execution-apis#/...` refs into the combined document."""

    def result_errors(self, method: str, value: Any) -> list[ValidationError]:
        """Why `value` is not a valid result of `method` (empty when it is)."""
        return self._errors(f"#/methods/{method}/result/schema", value)

    def component_errors(self, name: str, value: Any) -> list[ValidationError]:
        """Why `value` is not a valid `#/components/schemas/<name>`."""
        return self._errors(f"#/components/schemas/{name}", value)

    def check_result(self, method: str, value: Any) -> None:
        """Fail with the most relevant schema error unless `value` is a valid result of `method`."""
        _raise_first(f"{method} result", self.result_errors(method, value), value)

    def check_component(self, name: str, value: Any) -> None:
        """Fail unless `value` is a valid `name` component."""
        _raise_first(name, self.component_errors(name, value), value)

    def _errors(self, pointer: str, value: Any) -> list[ValidationError]:
        if pointer.startswith("#/methods/") and pointer.split("/")[2] not in self.methods:
            raise KeyError(f"the specification has no method {pointer.split('/')[2]}")
        validator = Draft201909Validator({"$ref": SPEC_URI + pointer}, registry=self.registry)
        return list(validator.iter_errors(value))


def find_location() -> Path:
    """Where the specification should be: `$EXECUTION_APIS`, else `../shared/reference/...`."""
    configured = os.environ.get("EXECUTION_APIS")
    return Path(configured) if configured else DEFAULT_LOCATION


def load_spec(location: Path) -> Spec:
    """Read every method file and schema file under `location`."""
    components: dict[str, Any] = {}
    for path in sorted((location / "schemas").glob("*.yaml")):
        components.update(yaml.safe_load(path.read_text()) or {})
    correct_known_defects(components)
    methods: dict[str, dict[str, Any]] = {}
    for folder in METHOD_FOLDERS:
        for path in sorted((location / folder).glob("*.yaml")):
            for method in yaml.safe_load(path.read_text()) or []:
                methods[method["name"]] = method
    document = {"components": {"schemas": components}, "methods": methods}
    resource = DRAFT201909.create_resource(document)
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
    return Spec(location, methods, components, registry)


def correct_known_defects(components: dict[str, Any]) -> None:
    """Fix what no response could satisfy, and nothing else.

    `FilterResults` is `oneOf` two array schemas (hashes, logs); an empty array is valid under
    both, so `oneOf` rejects `[]`, the answer to every filter poll with nothing new. `anyOf`
    is what was meant (the `transactions` of `Block` use `anyOf` for the same reason).
    """
    results = components.get("FilterResults")
    if isinstance(results, dict) and "oneOf" in results:
        results["anyOf"] = results.pop("oneOf")


def _raise_first(what: str, errors: list[ValidationError], value: Any) -> None:
    if not errors:
        return
    error = best_match(errors)
    path = "/".join(str(part) for part in error.absolute_path) or "(top)"
    raise AssertionError(
        f"{what} does not match the execution-apis schema at {path}: {error.message}\n"
        f"value: {value!r:.2000}"
    )
