"""What .ci/contract.sh's generator must know beyond the OpenAPI document."""

import uuid

import schemathesis

IDEMPOTENCY_KEY = "idempotency-key"
MAX_IDEMPOTENCY_KEY = 128  # routes::contract::MAX_IDEMPOTENCY_KEY
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@schemathesis.serializer(XLSX)
def xlsx(ctx, value):
    # A filled template goes up as the bytes of the file.
    return {"data": value if isinstance(value, bytes) else str(value).encode()}


@schemathesis.hook
def filter_case(ctx, case):
    # GET /api/v1/agencies: every agency ever, in its latest state
    # (`include_inactive`), has no date to be seen on (`as_of`). A valid
    # case does not ask for both; the negative tests still send anything.
    meta = case.meta
    if meta is not None and meta.generation.mode.is_negative:
        return True
    if case.method != "GET" or case.operation.path != "/api/v1/agencies":
        return True
    query = case.query or {}
    inactive = str(query.get("include_inactive", "")).lower() == "true"
    return not (inactive and str(query.get("as_of") or "").strip())


@schemathesis.hook
def before_call(ctx, case, kwargs):
    # The same Idempotency-Key with another request is refused (422, as the
    # IETF draft has it), so each valid request gets a key of its own.
    # Negative cases go as generated: an edit would make schemathesis
    # classify them again.
    if case.meta is not None and case.meta.generation.mode.is_negative:
        return
    headers = case.headers or {}
    for name, value in list(headers.items()):
        if (
            name.lower() == IDEMPOTENCY_KEY
            and isinstance(value, str)
            and len(value) <= MAX_IDEMPOTENCY_KEY
            and all(" " <= c <= "~" for c in value)
        ):
            headers[name] = str(uuid.uuid4())
