"""How each protocol names a failed signature check: AWS's error code and HTTP status per `SigV4ErrorKind`.

JSON 1.1 services (Rekognition, KMS) answer `{"__type": …}`; S3 answers its XML `<Error><Code>`; the query
services (IAM, STS) their `<ErrorResponse><Error><Code>`.
"""

from __future__ import annotations

from openrek.security.sigv4 import SigV4ErrorKind as K

JSON_ERRORS: dict[K, tuple[str, int]] = {
    K.MISSING: ("MissingAuthenticationTokenException", 403),
    K.MALFORMED: ("IncompleteSignatureException", 403),
    K.UNSUPPORTED: ("IncompleteSignatureException", 403),
    K.UNKNOWN_KEY: ("UnrecognizedClientException", 400),
    K.MISMATCH: ("InvalidSignatureException", 403),
    K.SKEWED: ("InvalidSignatureException", 403),
    K.EXPIRED: ("InvalidSignatureException", 403),
}

S3_ERRORS: dict[K, tuple[str, int]] = {
    K.MISSING: ("AccessDenied", 403),
    K.MALFORMED: ("AuthorizationHeaderMalformed", 400),
    K.UNSUPPORTED: ("InvalidRequest", 400),
    K.UNKNOWN_KEY: ("InvalidAccessKeyId", 403),
    K.MISMATCH: ("SignatureDoesNotMatch", 403),
    K.SKEWED: ("RequestTimeTooSkewed", 403),
    K.EXPIRED: ("AccessDenied", 403),
}

QUERY_ERRORS: dict[K, tuple[str, int]] = {
    K.MISSING: ("MissingAuthenticationToken", 403),
    K.MALFORMED: ("IncompleteSignature", 400),
    K.UNSUPPORTED: ("IncompleteSignature", 400),
    K.UNKNOWN_KEY: ("InvalidClientTokenId", 403),
    K.MISMATCH: ("SignatureDoesNotMatch", 403),
    K.SKEWED: ("SignatureDoesNotMatch", 403),
    K.EXPIRED: ("ExpiredToken", 403),
}


def json_error(kind: K) -> tuple[str, int]:
    return JSON_ERRORS[kind]


def s3_error(kind: K) -> tuple[str, int]:
    return S3_ERRORS[kind]


def query_error(kind: K) -> tuple[str, int]:
    return QUERY_ERRORS[kind]
