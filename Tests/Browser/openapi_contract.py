"""Calls the API by the operation ids of its OpenAPI document and checks every answer against it:
the status must be documented for the operation, the content type must be one it documents,
a JSON body must validate against the documented schema (objects refuse undocumented fields)
and documented headers that are marked required must be present. Every operation called is
recorded, so a test can insist that none was left out."""
import json
import re
import urllib.parse

import requests
from openapi_schema_validator import OAS31Validator


class ContractViolation(AssertionError):
    pass


class Contract:
    def __init__(self, document: dict, servers: dict):
        """`servers` maps a server URL of the document (or "/") to the base URL it runs at here."""
        self.document = document
        self.servers = servers
        self.operations = {}
        for path, item in document["paths"].items():
            for method, operation in item.items():
                if method in ("parameters", "servers", "summary", "description"):
                    continue
                server = (item.get("servers") or operation.get("servers") or document["servers"])[0]["url"]
                self.operations[operation["operationId"]] = (path, method.upper(), operation, server)
        self.called = set()

    def url(self, operation_id: str, **path_parameters) -> str:
        path, _, _, server = self.operations[operation_id]
        expanded = re.sub(r"\{(\w+)\}", lambda m: urllib.parse.quote(str(path_parameters.pop(m.group(1))), safe=""), path)
        assert not path_parameters, f"{operation_id}: unknown path parameters {sorted(path_parameters)}"
        return self.servers[server].rstrip("/") + expanded

    def call(self, operation_id: str, expect: int, path: dict = None, query: dict = None, headers: dict = None,
             json_body=None, data: bytes = None, stream: bool = False, sign=None):
        """Sends the operation and checks the answer against the document; `expect` is the status
        this step of the test needs (checked after the contract, so a violation is reported first).
        `sign(method, target, body)` returns fields to add for the request exactly as it is sent."""
        assert operation_id in self.operations, f"{operation_id} is not in the document"
        _, method, _, _ = self.operations[operation_id]
        request = requests.Request(
            method, self.url(operation_id, **(path or {})), params=query, headers=headers, json=json_body, data=data,
        ).prepare()
        if sign:
            body = request.body or b""
            request.headers.update(sign(request.method, request.path_url, body.encode() if isinstance(body, str) else body))
        with requests.Session() as session:
            response = session.send(request, allow_redirects=False, stream=stream, timeout=15)
        if not stream:
            self.check(operation_id, response)
        assert response.status_code == expect, (
            f"{operation_id}: expected {expect}, got {response.status_code}: {response.text[:500]}")
        self.called.add(operation_id)
        return response

    def documented_response(self, operation_id: str, status: int) -> dict:
        _, _, operation, _ = self.operations[operation_id]
        responses = operation["responses"]
        documented = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
        if documented is None:
            raise ContractViolation(f"{operation_id}: status {status} is not documented (documented: {sorted(responses)})")
        return self.resolve(documented)

    def check(self, operation_id: str, response) -> None:
        documented = self.documented_response(operation_id, response.status_code)
        for name, header in (documented.get("headers") or {}).items():
            header = self.resolve(header)
            if header.get("required") and name not in response.headers:
                raise ContractViolation(f"{operation_id}: {response.status_code} lacks the required header {name}")
        content = documented.get("content")
        if not content:
            if response.content and response.status_code not in (301, 302, 304):
                raise ContractViolation(f"{operation_id}: {response.status_code} has a body but documents none")
            return
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        if media_type not in content:
            raise ContractViolation(f"{operation_id}: {response.status_code} answered {media_type!r}, documented {sorted(content)}")
        if media_type.endswith("json"):
            self.validate(content[media_type]["schema"], response.json(), f"{operation_id} {response.status_code}")

    def validate(self, schema: dict, instance, where: str) -> None:
        wrapped = {"$ref": "#/$defs/schema", "$defs": {"schema": schema}, "components": self.document["components"]}
        errors = sorted(OAS31Validator(wrapped).iter_errors(instance), key=lambda error: list(error.path))
        if errors:
            details = "; ".join(f"{'/'.join(map(str, error.path)) or '(root)'}: {error.message}" for error in errors[:5])
            raise ContractViolation(f"{where}: the body does not match the document: {details}\n{json.dumps(instance)[:800]}")

    def resolve(self, node: dict) -> dict:
        while "$ref" in node:
            target = self.document
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def schema(self, name: str) -> dict:
        return {"$ref": f"#/components/schemas/{name}"}

    def uncalled(self) -> list:
        return sorted(set(self.operations) - self.called)
