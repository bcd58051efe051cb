"""Template and repeat expansion: a spec's ``layers`` -> a plain tree of layer objects.

Two macros keep specs short; both are gone after expansion:

``{"use": "basic", "with": {"filters": 64}, "name": "block"}``
    inserts the template ``basic`` with its parameters bound. Inside the template, a value
    ``"$filters"`` is replaced by the argument (any JSON value: a number, a list, even a layer)
    and ``"${filters}"`` inside a longer string is replaced by its text. A template whose body is
    ``"layers"`` (a list) is spliced into the enclosing list.
``{"repeat": 3, ...}``
    inside a list of layers, the object (minus ``repeat``) ``3`` times, with ``$i`` (0, 1, 2)
    and ``$n`` (1, 2, 3) bound.

Every expanded layer keeps the path it came from under the key ``SOURCE_KEY``, so later errors
can name it: ``layers[5].layers[0] > templates.basic.layer.layers[3]``.

Example
-------
>>> tree = expand_layers([{"repeat": 2, "type": "conv", "filters": "$f", "f": 3, "name": "c${n}"}],
...                      {}, "net.json", {"f": 8})
>>> [(layer["name"], layer["filters"]) for layer in tree]
[('c1', 8), ('c2', 8)]
"""

from __future__ import annotations

import re
from typing import Any

from ..whole_numbers import integer_value
from .spec import SOURCE_KEY, SpecError, integer_wanted, json_kind, json_value
from .words import SummaryWords

_WHOLE = re.compile(r"^\$([A-Za-z_]\w*)$")
_INNER = re.compile(r"\$\{([A-Za-z_]\w*)\}")
#: fields whose value is a list of layers (expanded structurally, not just substituted)
LAYER_LIST_FIELDS = ("layers", "shortcut")
TEMPLATE_FIELDS = ("params", "layer", "layers", "comment")
CALL_FIELDS = ("use", "with", "name", "trainable", "comment", "repeat")
MAX_NESTING = 32
#: layers a spec may expand to (``--max-layers``, ``max_layers=``); the largest real networks have a few thousand
DEFAULT_MAX_LAYERS = 100_000
#: characters a ``${var}`` substitution may build (string-doubling templates grow exponentially)
MAX_TEXT = 10_000
_MISSING = object()


def expand_layers(layers: Any, templates: dict[str, Any], label: str, env: dict[str, Any] | None = None,
                  *, max_layers: int = DEFAULT_MAX_LAYERS, words: SummaryWords = SummaryWords()) -> list[dict]:
    """Expand the top-level ``layers`` list of a spec.

    The layers are counted as they are made, and a ``repeat`` before it runs, so a tiny
    spec that would expand to billions of layers fails at once (SpecError, exit 3) naming
    the field, instead of exhausting the machine.  ``words`` name the limit as the caller sets it.

    >>> expand_layers([{"repeat": 10**9, "type": "dropout"}], {}, "net.json")
    Traceback (most recent call last):
    ...
    kernelcli.netspec.spec.SpecError: net.json: layers[0].repeat: 1000000000 repeats would expand to more than 100000 layers (the limit; max_layers= raises it)
    """
    expander = _Expander(templates, label, max_layers, words.max_layers)
    for name, template in templates.items():
        expander.check_template(template, f"templates.{name}")
    return expander.layers(layers, env or {}, "layers", 0)


class _Expander:
    def __init__(self, templates: dict[str, Any], label: str, max_layers: int = DEFAULT_MAX_LAYERS,
                 max_layers_name: str = "max_layers=") -> None:
        self.templates = templates
        self.label = label
        self.max_layers = max_layers
        self.limit = f"(the limit; {max_layers_name} raises it)"
        self.made = 0  # layers made so far
        self.work = 0  # values substituted so far: bounds the time of any spec

    def count(self, path: str, more: int = 1) -> None:
        self.made += more
        if self.made > self.max_layers:
            raise self.fail(path, f"the spec expands to more than {self.max_layers} layers {self.limit}")

    def fail(self, path: str, message: str) -> SpecError:
        return SpecError(f"{self.label}: {path}: {message}")

    # -- substitution -------------------------------------------------------------------------
    def subst(self, value: Any, env: dict[str, Any], path: str, strict: bool) -> Any:
        """Replace ``$var`` / ``${var}`` in ``value``; unknown names fail only when ``strict``."""
        self.work += 1
        if self.work > 100 * self.max_layers + 1_000_000:
            raise self.fail(path, f"the spec takes more than {self.work - 1} substitutions to expand (templates used too often?)")
        if isinstance(value, str):
            whole = _WHOLE.match(value)
            if whole:
                got = env.get(whole.group(1), _MISSING)
                if got is not _MISSING:
                    return got  # bound values were substituted where they were written
                if strict:
                    raise self.unknown(whole.group(1), env, path)
                return value

            def inner(match: re.Match) -> str:
                got = env.get(match.group(1), _MISSING)
                if got is _MISSING:
                    if strict:
                        raise self.unknown(match.group(1), env, path)
                    return match.group(0)
                return str(got)

            text = _INNER.sub(inner, value)
            if len(text) > MAX_TEXT:
                raise self.fail(path, f"a substituted text of {len(text)} characters, more than {MAX_TEXT} (a template doubling a string?)")
            return text
        if isinstance(value, list):
            return [self.subst(v, env, f"{path}[{k}]", strict) for k, v in enumerate(value)]
        if isinstance(value, dict):
            return {k: self.subst(v, env, f"{path}.{k}", strict) for k, v in value.items()}
        return value

    def name(self, value: Any, env: dict[str, Any], path: str) -> Any:
        """A layer's ``name``, substituted: ``"$n"`` alone gives the repeat's integer, where a name is text."""
        got = self.subst(value, env, path, strict=True)
        whole = _WHOLE.match(value) if isinstance(value, str) else None
        if whole and not isinstance(got, str):
            raise self.fail(path, f'"{value}" gives {json_value(got)}, not a string; write "${{{whole.group(1)}}}" inside a name to use its text')
        return got

    def unknown(self, name: str, env: dict[str, Any], path: str) -> SpecError:
        known = ", ".join(f"${k}" for k in sorted(env)) or "none"
        return self.fail(path, f"unknown variable ${name} (bound here: {known})")

    # -- structure ----------------------------------------------------------------------------
    def layers(self, items: Any, env: dict[str, Any], path: str, nesting: int) -> list[dict]:
        items = self.subst(items, env, path, strict=True) if isinstance(items, str) else items
        if not isinstance(items, list):
            raise self.fail(path, f"expected a list of layers, got {json_kind(items)}")
        out: list[dict] = []
        for k, item in enumerate(items):
            where = f"{path}[{k}]"
            if isinstance(item, str):
                item = self.subst(item, env, where, strict=True)
            if isinstance(item, list):  # a list-valued argument, spliced in place
                out.extend(self.layers(item, env, where, nesting))
                continue
            if isinstance(item, dict) and "repeat" in item:
                count = self.subst(item["repeat"], env, f"{where}.repeat", strict=True)
                whole = integer_value(count)
                if whole is None or whole < 0:
                    raise self.fail(f"{where}.repeat", f"expected {integer_wanted(0, count)}, got {json_value(count)}")
                count = whole
                if count > self.max_layers - self.made:
                    raise self.fail(f"{where}.repeat", f"{count} repeats would expand to more than {self.max_layers} layers {self.limit}")
                body = {key: value for key, value in item.items() if key != "repeat"}
                for i in range(count):
                    out.extend(self.item(body, {**env, "i": i, "n": i + 1}, where, nesting))
                continue
            out.extend(self.item(item, env, where, nesting))
        return out

    def item(self, node: Any, env: dict[str, Any], path: str, nesting: int) -> list[dict]:
        """One list entry -> one layer, or several when a template body is a list."""
        if not isinstance(node, dict):
            raise self.fail(path, f"expected a layer object, got {json_value(node)}")
        if "use" in node:
            return self.call(node, env, path, nesting)
        return [self.layer(node, env, path, nesting)]

    def layer(self, node: Any, env: dict[str, Any], path: str, nesting: int) -> dict:
        if not isinstance(node, dict):
            raise self.fail(path, f"expected a layer object, got {json_value(node)}")
        if "use" in node:
            result = self.call(node, env, path, nesting)
            if len(result) != 1:
                raise self.fail(path, f"template {node['use']!r} gives a list of layers; use it inside a list")
            return result[0]
        if "repeat" in node:
            raise self.fail(f"{path}.repeat", "repeat is allowed only on an entry of a list of layers")
        out: dict[str, Any] = {}
        for key, value in node.items():
            where = f"{path}.{key}"
            if key in LAYER_LIST_FIELDS:
                out[key] = self.layers(value, env, where, nesting)
            elif key == "branches":
                value = self.subst(value, env, where, strict=True) if isinstance(value, str) else value
                if not isinstance(value, dict):
                    raise self.fail(where, f"expected an object of branch name -> list of layers, got {json_kind(value)}")
                out[key] = {name: self.layers(v, env, f"{where}.{name}", nesting) for name, v in value.items()}
            elif key == SOURCE_KEY:
                out[key] = value
            elif key == "name":
                out[key] = self.name(value, env, where)
            else:
                out[key] = self.subst(value, env, where, strict=True)
        out.setdefault(SOURCE_KEY, path)
        self.count(path)
        return out

    def call(self, node: dict, env: dict[str, Any], path: str, nesting: int) -> list[dict]:
        unknown = [key for key in node if key not in CALL_FIELDS]
        if unknown:
            raise self.fail(f"{path}.{unknown[0]}", f"unknown field for a template use; allowed: {', '.join(CALL_FIELDS)}")
        name = self.subst(node["use"], env, f"{path}.use", strict=True)
        template = self.templates.get(name) if isinstance(name, str) else None
        if template is None:
            known = ", ".join(sorted(self.templates)) or "none defined"
            raise self.fail(f"{path}.use", f"no template named {json_value(name)} (templates: {known})")
        if nesting >= MAX_NESTING:
            raise self.fail(f"{path}.use", f"templates nested deeper than {MAX_NESTING} (does {name!r} use itself?)")
        tpath = f"templates.{name}"
        params = self.check_template(template, tpath)
        args = node.get("with", {})
        if not isinstance(args, dict):
            raise self.fail(f"{path}.with", f"expected an object of parameter -> value, got {json_value(args)}")
        for key in args:
            if key not in params:
                raise self.fail(f"{path}.with.{key}", f"template {name!r} has no parameter {key!r}; its parameters: {', '.join(params) or 'none'}")
        # a layer-valued argument may hold variables of a repeat inside it, bound later
        bound = dict(params)
        for key, value in args.items():
            bound[key] = self.subst(value, env, f"{path}.with.{key}", strict=not isinstance(value, dict | list))
        missing = [key for key, value in bound.items() if value is None]
        if missing:
            raise self.fail(f"{path}.with", f"template {name!r} needs a value for {missing[0]!r}")
        if "layer" in template:
            result = [self.layer(template["layer"], bound, f"{path} > {tpath}.layer", nesting + 1)]
        else:
            result = self.layers(template["layers"], bound, f"{path} > {tpath}.layers", nesting + 1)
        overrides = {key: self.subst(node[key], env, f"{path}.{key}", strict=True) for key in ("trainable", "comment") if key in node}
        if "name" in node:
            overrides["name"] = self.name(node["name"], env, f"{path}.name")
        if overrides:
            if len(result) != 1 and "name" in overrides:
                raise self.fail(f"{path}.name", f"template {name!r} gives a list of layers, which cannot take one name")
            for layer in result:
                layer.update(overrides)
        return result

    def check_template(self, template: Any, path: str) -> dict[str, Any]:
        if not isinstance(template, dict):
            raise self.fail(path, f"expected a template object with 'params' and 'layer' or 'layers', got {json_value(template)}")
        unknown = [key for key in template if key not in TEMPLATE_FIELDS]
        if unknown:
            raise self.fail(f"{path}.{unknown[0]}", f"unknown field for a template; allowed: {', '.join(TEMPLATE_FIELDS)}")
        if ("layer" in template) == ("layers" in template):
            raise self.fail(path, "a template needs exactly one of 'layer' (one layer) or 'layers' (a list, spliced in)")
        params = template.get("params", {})
        if not isinstance(params, dict):
            raise self.fail(f"{path}.params", f"expected an object of parameter -> default (null = required), got {json_value(params)}")
        return params
