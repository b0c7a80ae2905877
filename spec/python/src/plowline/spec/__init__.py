"""plowline-spec: Plowline's machine-readable spec, an Iglu resolver and a validator.

Most used names::

    from plowline.spec import Resolver, Validator, SchemaKey

    report = Validator().validate(body_bytes)      # payload_data, contexts, any SDJ
    if not report.valid:
        print(report)                                # "$.data[0]: \"e\" is a required property"
        messages = report.badrow_messages()          # schema_violations failure messages
"""

from plowline.spec.decoding import Limits, decode_base64url
from plowline.spec.errors import (
    ClientFailureError,
    DepthLimitExceededError,
    DocumentTooLargeError,
    InvalidIgluUriError,
    InvalidSchemaCriterionError,
    InvalidSchemaError,
    InvalidSchemaVerError,
    NotJsonError,
    NotSelfDescribingError,
    RegistryError,
    RepoFailureError,
    ResolutionError,
    ResolverConfigError,
    SchemaNotFoundError,
    SchemaRefCycleError,
    SpecError,
)
from plowline.spec.iglu import SchemaCriterion, SchemaKey, SchemaVer, SelfDescribingData
from plowline.spec.registries import EmbeddedRegistry, HttpRegistry, InMemoryRegistry, Registry
from plowline.spec.reports import (
    CriterionMismatchFailure,
    DataReport,
    Failure,
    InvalidSchemaFailure,
    NotIgluFailure,
    NotJsonFailure,
    ResolutionFailure,
    ValidationFailure,
    ValidationReport,
    iglu_error_json,
)
from plowline.spec.resolver import LookupHistory, Resolver, resolution_error_json
from plowline.spec.validation import CONTEXTS, PAYLOAD_DATA, UNSTRUCT_EVENT, Validator

__version__ = "0.1.0"

__all__ = [
    "CONTEXTS",
    "PAYLOAD_DATA",
    "UNSTRUCT_EVENT",
    "ClientFailureError",
    "CriterionMismatchFailure",
    "DataReport",
    "DepthLimitExceededError",
    "DocumentTooLargeError",
    "EmbeddedRegistry",
    "Failure",
    "HttpRegistry",
    "InMemoryRegistry",
    "InvalidIgluUriError",
    "InvalidSchemaCriterionError",
    "InvalidSchemaError",
    "InvalidSchemaFailure",
    "InvalidSchemaVerError",
    "Limits",
    "LookupHistory",
    "NotIgluFailure",
    "NotJsonError",
    "NotJsonFailure",
    "NotSelfDescribingError",
    "Registry",
    "RegistryError",
    "RepoFailureError",
    "ResolutionError",
    "ResolutionFailure",
    "Resolver",
    "ResolverConfigError",
    "SchemaCriterion",
    "SchemaKey",
    "SchemaNotFoundError",
    "SchemaRefCycleError",
    "SchemaVer",
    "SelfDescribingData",
    "SpecError",
    "ValidationFailure",
    "ValidationReport",
    "Validator",
    "__version__",
    "decode_base64url",
    "iglu_error_json",
    "resolution_error_json",
]
